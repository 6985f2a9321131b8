"""Support hours and the honest expected reply time of a human handoff.

When the bot hands a customer to a person it says when to expect an answer ("Un agente te
responde hoy antes de las 17:00"). That promise is computed here from three things an
operator controls in `handoff/support.yml`: the business hours (per weekday, in the store's
time zone, minus public holidays and extra closed dates), the SLA policy (first-reply target
per priority, counted in business minutes) and the queue (cases waiting ahead and agents
online).

Everything here is a pure function of its arguments so it is easy to test with fixed
datetimes; the only I/O is `load_policy`, which reads the YAML when called (never at import).
All datetimes must be time-zone aware: a naive "10:00" is ambiguous between the customer's,
the server's and the store's clock, and guessing is how a promise ends up an hour off.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

DEFAULT_PATH = Path(__file__).with_name("support.yml")
UTC = timezone.utc
ENV_VAR = "HILO_SUPPORT_HOURS"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PRIORITIES = ("urgent", "high", "normal", "low")

# Promises are rounded up to this many minutes: customers read "antes de las 10:15".
ROUND_TO_MINUTES = 15
# How far ahead to look for an opening before deciding the schedule never opens (a year of
# extra closed dates is a configuration mistake, not a reason to loop forever).
MAX_DAYS_AHEAD = 400
# A promise more than this many days away names the date, not the weekday: "el lunes" a week
# from today would be read as the coming Monday.
WEEKDAY_HORIZON_DAYS = 6

# "24:00" closes at midnight; it is stored as time(0) because datetime.time stops at 23:59.
MIDNIGHT = time(0)

_ES_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ES_MONTHS = (
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
)
_EN_MONTHS = (
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
)

Interval = tuple[time, time]


class SupportHoursError(ValueError):
    """The support hours or SLA policy is invalid (a ValueError, with a readable message)."""


@functools.lru_cache(maxsize=64)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of one year, cached: the `holidays` library rebuilds them per call."""
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=[year])
    return frozenset(calendar)


def _zone(key: str) -> ZoneInfo:
    """The ZoneInfo for an IANA key, as a SupportHoursError when the key is unknown."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise SupportHoursError(
            f"unknown time zone {key!r}; use an IANA name such as 'America/Mexico_City'"
        ) from error


def _require_aware(moment: datetime, name: str) -> None:
    """Rejects naive datetimes: whose clock they are on cannot be guessed safely."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a time-zone aware datetime, got naive {moment}")


def _ends_after(start: time, end: time) -> bool:
    """Whether the interval start-end is non-empty (end time(0) means midnight, 24:00)."""
    return end == MIDNIGHT or end > start


def _format_time(value: time) -> str:
    """24-hour HH:MM, with midnight as an end shown as 24:00."""
    return value.strftime("%H:%M")


@dataclass(frozen=True)
class BusinessHours:
    """When people answer: weekly opening intervals in a time zone, minus closed days.

    Intervals are wall-clock times in `timezone` and half-open ([start, end)): at the closing
    minute the team is already gone. A day may have several intervals (a lunch break); an
    interval may not cross midnight (split it: "22:00-24:00" today, "00:00-02:00" tomorrow),
    which keeps every interval on one local date. `time(0)` as an end means midnight (24:00).

    Attributes:
        timezone: IANA time zone of the team, e.g. "America/Mexico_City".
        weekly: Opening intervals by weekday, 0 = Monday; a missing weekday is closed.
        holiday_country: `holidays` country code whose public holidays are closed, or None.
        holiday_subdivision: Optional state or province code for regional holidays.
        closed_dates: Extra closed dates (inventory day, company event).
    """

    timezone: str
    weekly: dict[int, list[Interval]]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        normalized: dict[int, list[Interval]] = {}
        for weekday, intervals in self.weekly.items():
            if weekday not in range(7):
                raise SupportHoursError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
            ordered = sorted(intervals)
            for start, end in ordered:
                if not _ends_after(start, end):
                    raise SupportHoursError(
                        f"{WEEKDAYS[weekday]}: interval {_format_time(start)}-"
                        f"{_format_time(end)} must end after it starts"
                    )
            for (_, end), (next_start, next_end) in itertools.pairwise(ordered):
                if end == MIDNIGHT or next_start < end:
                    raise SupportHoursError(
                        f"{WEEKDAYS[weekday]}: intervals overlap at "
                        f"{_format_time(next_start)}-{_format_time(next_end)}"
                    )
            normalized[weekday] = ordered
        if not any(normalized.values()):
            raise SupportHoursError("the weekly hours have no opening interval at all")
        if self.holiday_country is not None:
            try:
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision, years=[]
                )
            except NotImplementedError as error:
                raise SupportHoursError(f"unknown holidays calendar: {error}") from error
        elif self.holiday_subdivision is not None:
            raise SupportHoursError("a holiday subdivision needs a holiday country")
        # A private copy, sorted: the caller's dict may change later, this value must not.
        object.__setattr__(self, "weekly", normalized)
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))

    @property
    def zone(self) -> ZoneInfo:
        """The team's time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """`moment` on the team's wall clock."""
        _require_aware(moment, "moment")
        return moment.astimezone(self.zone)

    def is_closed_date(self, day: date) -> bool:
        """Whether `day` is a public holiday or an extra closed date (closed all day)."""
        if day in self.closed_dates:
            return True
        if self.holiday_country is None:
            return False
        return day in _holiday_dates(self.holiday_country, self.holiday_subdivision, day.year)

    def opening_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of a local date as aware local datetimes, empty when closed.

        Each wall-clock time is resolved through UTC, so a time that does not exist on a
        DST-change day (02:30 when clocks jump from 02:00 to 03:00) becomes the real instant
        (03:30).
        """
        zone = self.zone
        return [
            (opens.astimezone(zone), closes.astimezone(zone))
            for opens, closes in self._utc_intervals(day)
        ]

    def _utc_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of a local date as UTC instants.

        The walks below work in UTC on purpose: Python subtracts and compares two datetimes
        that share a tzinfo by their wall-clock readings, ignoring the offset, which is an
        hour wrong across a DST change. In UTC, arithmetic is elapsed time.
        """
        if self.is_closed_date(day):
            return []
        zone = self.zone
        result = []
        for start, end in self.weekly.get(day.weekday(), []):
            opens = datetime.combine(day, start, tzinfo=zone)
            end_day = day + timedelta(days=1) if end == MIDNIGHT else day
            closes = datetime.combine(end_day, end, tzinfo=zone)
            result.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        return result

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """UTC opening intervals that end after `moment`, in order, up to MAX_DAYS_AHEAD."""
        instant = moment.astimezone(UTC)
        day = self.local(moment).date()
        for offset in range(MAX_DAYS_AHEAD + 1):
            for opens, closes in self._utc_intervals(day + timedelta(days=offset)):
                if closes > instant:
                    yield opens, closes
        raise SupportHoursError(
            f"the support hours never open in the {MAX_DAYS_AHEAD} days after {moment}"
        )

    def is_open(self, at: datetime) -> bool:
        """Whether a person is on duty at `at` (any time zone; compared as instants)."""
        day = self.local(at).date()
        instant = at.astimezone(UTC)
        return any(opens <= instant < closes for opens, closes in self._utc_intervals(day))

    def next_open(self, at: datetime) -> datetime:
        """The first open instant at or after `at`, on the team's clock (`at` if open)."""
        opens, _ = next(self._intervals_from(at))
        return max(opens, at.astimezone(UTC)).astimezone(self.zone)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` of open time after `start`, on the team's clock.

        Walks the opening intervals, skipping nights, closed weekdays and holidays. Minutes
        are elapsed minutes (what an agent actually works), so the walk subtracts instants,
        not wall-clock readings: across a DST change an interval 01:00-05:00 lasts 3 or 5
        hours, and the result lands on the right wall-clock time on either side.

        Args:
            start: Where to start counting; if closed, counting starts at the next opening.
            minutes: Business minutes to add, zero or more. Zero gives `next_open(start)`.

        Returns:
            The aware datetime in the team's time zone.
        """
        if math.isnan(minutes) or minutes < 0:
            raise ValueError(f"business minutes must be zero or more, got {minutes}")
        _require_aware(start, "start")
        remaining = timedelta(minutes=minutes)
        cursor = start.astimezone(UTC)
        for opens, closes in self._intervals_from(cursor):
            begin = max(opens, cursor)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(self.zone)
            remaining -= available
            cursor = closes
        raise AssertionError("unreachable: _intervals_from raises when it runs out")


@dataclass(frozen=True)
class SlaPolicy:
    """How fast the team promises a first reply, and how long a case takes.

    Attributes:
        first_reply_minutes: First-reply target in business minutes, by priority
            ("urgent", "high", "normal", "low"; others may be added).
        handling_minutes: Average minutes an agent spends per case, for the queue estimate.
    """

    first_reply_minutes: dict[str, int]
    handling_minutes: float

    def __post_init__(self) -> None:
        missing = [priority for priority in PRIORITIES if priority not in self.first_reply_minutes]
        if missing:
            raise SupportHoursError(f"first reply target missing for: {', '.join(missing)}")
        for priority, minutes in self.first_reply_minutes.items():
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
                raise SupportHoursError(
                    f"first reply target for {priority!r} must be a whole number of minutes "
                    f"above 0, got {minutes!r}"
                )
        handling = self.handling_minutes
        if isinstance(handling, bool) or not isinstance(handling, (int, float)) or handling < 0:
            raise SupportHoursError(
                f"handling minutes must be a number, 0 or more, got {self.handling_minutes!r}"
            )
        object.__setattr__(self, "first_reply_minutes", dict(self.first_reply_minutes))

    def target(self, priority: str) -> int:
        """The first-reply target of a priority; an unknown priority is a caller bug."""
        try:
            return self.first_reply_minutes[priority]
        except KeyError:
            known = ", ".join(self.first_reply_minutes)
            raise ValueError(f"unknown priority {priority!r}; known: {known}") from None


def _round_up(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` rounded up to the next quarter hour of the local clock (exact ones stay).

    The step is added to the instant (via UTC), not to the wall clock, so rounding next to a
    DST change cannot land on a time that does not exist.
    """
    local = moment.astimezone(zone)
    excess = timedelta(
        minutes=local.minute % ROUND_TO_MINUTES,
        seconds=local.second,
        microseconds=local.microsecond,
    )
    if not excess:
        return local
    return (local.astimezone(UTC) + timedelta(minutes=ROUND_TO_MINUTES) - excess).astimezone(zone)


def expected_reply_at(
    now: datetime,
    hours: BusinessHours,
    sla: SlaPolicy,
    *,
    priority: str,
    queue_ahead: int,
    agents_online: int,
) -> datetime:
    """The honest promise: by when a person will have answered this customer.

    Counting starts at `next_open(now)`: the clock does not run while nobody is on duty. The
    wait is the longer of the SLA target and the queue: the cases ahead are shared by the
    agents online (`queue_ahead * handling_minutes / agents`), and the first reply comes once
    they are cleared. A promise kept beats an optimistic guess, so the result takes the larger
    wait and is rounded *up* to the quarter hour ("antes de las 10:15", never "10:07"); a
    customer answered early is pleased, one answered late was lied to.

    With no agent online during open hours the queue is estimated as if one were, and the SLA
    still applies: agents log in and out all day (breaks, shift changes), and promising
    "tomorrow" because the desk is momentarily empty would be as wrong as promising "now".
    When hours are closed, agents online are irrelevant to the start: it is the next opening.

    Args:
        now: The current instant (any time zone).
        hours: The team's business hours.
        sla: The SLA policy.
        priority: The case priority, one of the policy's priorities.
        queue_ahead: Cases waiting before this one (negative counts as 0).
        agents_online: Agents taking cases now (0 counts as 1, see above).

    Returns:
        The promised instant, in the team's time zone.
    """
    target = sla.target(priority)
    queue_minutes = max(queue_ahead, 0) * sla.handling_minutes / max(agents_online, 1)
    start = hours.next_open(now)
    promise = hours.add_business_minutes(start, max(float(target), queue_minutes))
    return _round_up(promise, hours.zone)


def is_open_now(now: datetime, hours: BusinessHours) -> bool:
    """Whether a person is on duty at `now` (`now` is passed in so tests fix the clock)."""
    return hours.is_open(now)


def closes_today_at(now: datetime, hours: BusinessHours) -> datetime | None:
    """When the current open stretch ends today, on the team's clock; None when closed.

    This is the close a customer cares about ("we answer until 14:00"): with a lunch break the
    team is gone at 14:00 even though it is back at 15:00, so the end of the current stretch,
    not the day's last closing, is reported. Back-to-back intervals count as one stretch.
    """
    instant = now.astimezone(UTC)
    stretch_end: datetime | None = None
    for opens, closes in hours._utc_intervals(hours.local(now).date()):
        if (stretch_end is None and opens <= instant < closes) or (
            stretch_end is not None and opens == stretch_end
        ):
            stretch_end = closes
    return None if stretch_end is None else stretch_end.astimezone(hours.zone)


def _language(language: str) -> str:
    """English ("en") for any English tag such as "en-US"; Spanish, the store's, otherwise."""
    return "en" if language.lower().replace("_", "-").split("-")[0] == "en" else "es"


def _when(moment: datetime, now: datetime, hours: BusinessHours, language: str, *, by: bool) -> str:
    """The day and time of `moment` relative to `now`, e.g. "mañana a las 09:00".

    `by` picks a deadline ("antes de las", "by") or a point in time ("a las", "at").
    """
    local = hours.local(moment)
    days = (local.date() - hours.local(now).date()).days
    clock = local.strftime("%H:%M")
    if _language(language) == "en":
        at = f"{'by' if by else 'at'} {clock}"
        if days == 0:
            return f"today {at}"
        if days == 1:
            return f"tomorrow {at}"
        if 1 < days <= WEEKDAY_HORIZON_DAYS:
            return f"on {_EN_WEEKDAYS[local.weekday()]} {at}"
        return f"on {local.day} {_EN_MONTHS[local.month - 1]} {at}"
    article = "la" if local.hour == 1 else "las"  # "a la 01:00", "a las 02:00"
    at = f"{'antes de' if by else 'a'} {article} {clock}"
    if days == 0:
        return f"hoy {at}"
    if days == 1:
        return f"mañana {at}"
    if 1 < days <= WEEKDAY_HORIZON_DAYS:
        return f"el {_ES_WEEKDAYS[local.weekday()]} {at}"
    return f"el {local.day} de {_ES_MONTHS[local.month - 1]} {at}"


def phrase(promise: datetime, now: datetime, hours: BusinessHours, language: str) -> str:
    """The promise as the customer reads it, on the store's clock.

    "hoy antes de las 17:00" / "today by 17:00", "mañana antes de las 10:00", "el lunes antes
    de las 10:00" / "on Monday by 10:00" within six days, otherwise the date: "el 6 de enero
    antes de las 10:00" / "on 6 January by 10:00". Only the phrase: the caller writes the
    sentence ("Un agente te responde {when}."). Names come from tables, not the process
    locale, so the text does not change with the server's settings.

    Args:
        promise: The promised instant (from `expected_reply_at`).
        now: The current instant; "today" and "tomorrow" are relative to it.
        hours: The team's hours, for the time zone.
        language: "es" or "en" (a tag like "en-US" works); other languages get Spanish.
    """
    return _when(promise, now, hours, language, by=True)


def out_of_hours_notice(now: datetime, hours: BusinessHours, language: str) -> str | None:
    """A short sentence saying the team is away and when it is back; None when open.

    "Ahora estamos fuera de horario; volvemos el lunes a las 09:00." / "We're closed right
    now; we're back on Monday at 09:00." Said before the promise so a customer writing on a
    Friday night knows why the answer waits for Monday.
    """
    if hours.is_open(now):
        return None
    back = _when(hours.next_open(now), now, hours, language, by=False)
    if _language(language) == "en":
        return f"We're closed right now; we're back {back}."
    return f"Ahora estamos fuera de horario; volvemos {back}."


# --- Loading the policy file -------------------------------------------------------------

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_INTERVAL = re.compile(r"^\s*(\S+?)\s*[-–]\s*(\S+)\s*$")
_TOP_LEVEL = frozenset({"timezone", "hours", "holidays", "closed_dates", "sla"})


def _parse_time(text: str, where: str, *, end: bool) -> time:
    """An "HH:MM" time; "24:00" only as an interval end (midnight)."""
    match = _TIME.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour == 24 and minute == 0 and end:
            return MIDNIGHT
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise SupportHoursError(f"{where}: bad time {text!r}; use 24-hour HH:MM, e.g. '09:00'")


def _parse_intervals(value: object, where: str) -> list[Interval]:
    """A weekday's intervals: a list of "HH:MM-HH:MM" strings; empty or null is closed."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise SupportHoursError(
            f"{where}: expected a list of intervals like '09:00-18:00', got {value!r}"
        )
    intervals = []
    for item in items:
        if not isinstance(item, str):
            raise SupportHoursError(
                f"{where}: interval {item!r} must be a quoted text like '09:00-18:00'"
            )
        match = _INTERVAL.match(item)
        if not match:
            raise SupportHoursError(f"{where}: bad interval {item!r}; use 'HH:MM-HH:MM'")
        intervals.append(
            (_parse_time(match[1], where, end=False), _parse_time(match[2], where, end=True))
        )
    return intervals


def _parse_weekly(raw: object) -> dict[int, list[Interval]]:
    """The `hours` mapping of weekday names (monday … sunday) to intervals."""
    if not isinstance(raw, dict):
        raise SupportHoursError("hours: expected a mapping of weekday names to intervals")
    weekly: dict[int, list[Interval]] = {}
    for name, value in raw.items():
        key = str(name).strip().lower()
        if key not in WEEKDAYS:
            raise SupportHoursError(f"hours: unknown weekday {name!r}; use {', '.join(WEEKDAYS)}")
        weekly[WEEKDAYS.index(key)] = _parse_intervals(value, f"hours.{key}")
    return weekly


def _parse_holidays(raw: object) -> tuple[str | None, str | None]:
    """The `holidays` section: country (and optional subdivision) codes, or none at all."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or set(raw) - {"country", "subdivision"}:
        raise SupportHoursError("holidays: expected a mapping with 'country' and 'subdivision'")
    codes = []
    for key in ("country", "subdivision"):
        value = raw.get(key)
        # Unquoted NO (Norway) or ON is a boolean in YAML 1.1.
        if value is not None and not isinstance(value, str):
            raise SupportHoursError(f"holidays.{key}: quote the code, got {value!r}")
        codes.append(value.strip().upper() if value else None)
    return codes[0], codes[1]


def _parse_closed_dates(raw: object) -> frozenset[date]:
    """Extra closed dates: YAML dates (2026-12-24) or ISO texts."""
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise SupportHoursError("closed_dates: expected a list of dates like 2026-12-24")
    dates = set()
    for item in raw:
        if isinstance(item, datetime) or not isinstance(item, (date, str)):
            raise SupportHoursError(f"closed_dates: {item!r} is not a date like 2026-12-24")
        if isinstance(item, str):
            try:
                item = date.fromisoformat(item.strip())
            except ValueError:
                raise SupportHoursError(
                    f"closed_dates: {item!r} is not a date like 2026-12-24"
                ) from None
        dates.add(item)
    return frozenset(dates)


def _parse_sla(raw: object) -> SlaPolicy:
    """The `sla` section: first_reply_minutes by priority and handling_minutes."""
    if not isinstance(raw, dict):
        raise SupportHoursError("sla: expected 'first_reply_minutes' and 'handling_minutes'")
    targets = raw.get("first_reply_minutes")
    if not isinstance(targets, dict):
        raise SupportHoursError(
            "sla.first_reply_minutes: expected a mapping of priority to minutes"
        )
    if "handling_minutes" not in raw:
        raise SupportHoursError("sla.handling_minutes is missing")
    try:
        return SlaPolicy({str(k): v for k, v in targets.items()}, raw["handling_minutes"])
    except SupportHoursError as error:
        raise SupportHoursError(f"sla: {error}") from None


def parse_policy(raw: Any) -> tuple[BusinessHours, SlaPolicy]:
    """Builds the hours and SLA from the parsed YAML, with a readable error when invalid."""
    if not isinstance(raw, dict):
        raise SupportHoursError("the support file must be a mapping (timezone, hours, sla, ...)")
    unknown = sorted(str(key) for key in set(raw) - _TOP_LEVEL)
    if unknown:
        raise SupportHoursError(
            f"unknown setting(s) {', '.join(unknown)}; expected {', '.join(sorted(_TOP_LEVEL))}"
        )
    for required in ("timezone", "hours", "sla"):
        if required not in raw:
            raise SupportHoursError(f"{required} is missing")
    if not isinstance(raw["timezone"], str):
        raise SupportHoursError(f"timezone: expected an IANA name, got {raw['timezone']!r}")
    country, subdivision = _parse_holidays(raw.get("holidays"))
    hours = BusinessHours(
        timezone=raw["timezone"].strip(),
        weekly=_parse_weekly(raw["hours"]),
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed_dates=_parse_closed_dates(raw.get("closed_dates")),
    )
    return hours, _parse_sla(raw["sla"])


def load_policy(path: Path | None = None) -> tuple[BusinessHours, SlaPolicy]:
    """Reads the support policy: `path`, else $HILO_SUPPORT_HOURS, else handoff/support.yml.

    Raises:
        SupportHoursError: (a ValueError) when the file cannot be read or is invalid; the
            message starts with the file path so an operator knows which file to fix.
    """
    source = path or Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise SupportHoursError(f"cannot read support hours from {source}: {error}") from error
    except (yaml.YAMLError, ValueError) as error:
        # PyYAML raises a bare ValueError for an impossible date such as 2026-02-30.
        raise SupportHoursError(f"{source}: not valid YAML: {error}") from error
    try:
        return parse_policy(raw)
    except SupportHoursError as error:
        raise SupportHoursError(f"{source}: {error}") from None
