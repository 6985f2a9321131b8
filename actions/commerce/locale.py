"""Dates and money the way the store writes them, in Spanish and English.

Month and weekday names are spelled out here rather than taken from strftime("%B"), which
follows the process locale. Dates are shown in the store's time zone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["MONTHS", "STORE_TIMEZONE", "WEEKDAYS", "local", "money"]

STORE_TIMEZONE = "America/Mexico_City"
MONTHS = {
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
WEEKDAYS = {
    "es": "lunes martes miércoles jueves viernes sábado domingo".split(),  # noqa: SIM905
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),  # noqa: SIM905
}


def local(moment: datetime) -> datetime:
    """A UTC moment in the store's time zone (UTC if the machine has no tz database)."""
    try:
        zone = ZoneInfo(STORE_TIMEZONE)
    except ZoneInfoNotFoundError:
        return moment.astimezone(timezone.utc)
    return moment.astimezone(zone)


def money(cents: int) -> str:
    """An amount in pesos: 129900 → "$1,299.00"."""
    return f"${cents // 100:,}.{cents % 100:02d}"
