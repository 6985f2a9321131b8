"""What customers write about, week over week, and what rises unusually (docs/analytics.md).

Every customer message in the record (handoff/facts.py) carries the label the bot acted on:
an intent, or `faq/<key>` for an FAQ topic. The trends report counts them over the last
seven days and the four weeks before, and flags a label as **rising** when its last week is
at least `RISE` (2×) the average of the four before and at least `MIN_COUNT` (5) messages:
a rule a supervisor can check by hand, with the numbers that made it fire. A rise says where
it is concentrated when one city named in those messages has at least half of them
("complaint ×2.8 vs the last 4 weeks (14 vs 5.0 a week), mostly Monterrey").

It also lists the cities and products most named (NLU entities, kept in the facts' detail)
over the five weeks in complaints (messages read as one, and contacts handed over for one)
and in failed conversations (contacts that fell back, or were handed over for repeated
fallbacks or a bot error).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.database import reader
from handoff.models import cases, contacts, facts

DAY = 86400.0
WEEK = 7 * DAY
BASELINE_WEEKS = 4
RISE = 2.0
MIN_COUNT = 5
MOSTLY = 0.5
COMPLAINT = "complaint"
FAILED_REASONS = ("repeated_fallback", "bot_error")
TOP = 5


class Trends:
    """The trends report from the handoff database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Counts up to `clock()`."""
        self._reader = reader(engine)
        self._clock = clock

    def weekly(self, channel: str | None = None) -> dict[str, Any]:
        """Labels week over week, the rising ones explained, and the most named topics."""
        now = self._clock()
        weeks = [(now - (n + 1) * WEEK, now - n * WEEK) for n in range(BASELINE_WEEKS + 1)]
        counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
        with self._reader.connect() as connection:
            for index, (start, end) in enumerate(weeks):
                query = (
                    sa.select(facts.c.intent, sa.func.count())
                    .where(
                        facts.c.kind == "message_in",
                        facts.c.at >= start,
                        facts.c.at < end,
                        facts.c.intent.is_not(None),
                    )
                    .group_by(facts.c.intent)
                )
                if channel:
                    query = query.where(facts.c.channel == channel)
                for label, count in connection.execute(query):
                    counts[label][index] = int(count)
            cities = self._cities_by_label(connection, weeks[0], channel)
            named = self._named(connection, weeks[-1][0], now, channel)
        labels = [
            _trend(label, series, cities.get(label, Counter())) for label, series in counts.items()
        ]
        labels.sort(key=lambda t: (not t["rising"], -t["this_week"], t["label"]))
        return {
            "until": now,
            "weeks": [{"from": start, "to": end} for start, end in weeks],
            "rule": {"rise": RISE, "min_count": MIN_COUNT, "baseline_weeks": BASELINE_WEEKS},
            "labels": labels,
            "rising": [t for t in labels if t["rising"]],
            "named": named,
        }

    @staticmethod
    def _cities_by_label(
        connection: Any, week: tuple[float, float], channel: str | None
    ) -> dict[str, Counter[str]]:
        """The cities named in the last week's messages, per label."""
        query = sa.select(facts.c.intent, facts.c.detail).where(
            facts.c.kind == "message_in",
            facts.c.at >= week[0],
            facts.c.at < week[1],
            facts.c.detail != "{}",
        )
        if channel:
            query = query.where(facts.c.channel == channel)
        found: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for label, detail in connection.execute(query):
            city = _loads(detail).get("city")
            if city:
                found[label or "unknown"][city] += 1
        return found

    @staticmethod
    def _named(
        connection: Any, start: float, end: float, channel: str | None
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Cities and products most named in complaints and in failed conversations."""
        failed_contacts = (
            sa.select(contacts.c.id)
            .select_from(contacts.outerjoin(cases, cases.c.id == contacts.c.case_id))
            .where(
                contacts.c.started_at >= start,
                contacts.c.started_at < end,
                sa.or_(contacts.c.fallbacks > 0, cases.c.reason.in_(FAILED_REASONS)),
            )
        )
        complaint_contacts = (
            sa.select(contacts.c.id)
            .select_from(contacts.join(cases, cases.c.id == contacts.c.case_id))
            .where(
                contacts.c.started_at >= start,
                contacts.c.started_at < end,
                cases.c.reason == COMPLAINT,
            )
        )
        named: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name, about in (
            (
                "complaints",
                sa.or_(facts.c.intent == COMPLAINT, facts.c.contact_id.in_(complaint_contacts)),
            ),
            ("failed", facts.c.contact_id.in_(failed_contacts)),
        ):
            query = sa.select(facts.c.detail).where(
                facts.c.kind == "message_in",
                facts.c.at >= start,
                facts.c.at < end,
                facts.c.detail != "{}",
                about,
            )
            if channel:
                query = query.where(facts.c.channel == channel)
            kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
            for (detail,) in connection.execute(query):
                for kind, value in _loads(detail).items():
                    if kind in ("city", "product"):
                        kinds[kind][value] += 1
            named[name] = {
                plural: [
                    {"name": value, "count": count} for value, count in kinds[kind].most_common(TOP)
                ]
                for kind, plural in (("city", "cities"), ("product", "products"))
            }
        return named


def _trend(label: str, series: list[int], cities: Counter[str]) -> dict[str, Any]:
    """One label's weeks, baseline, ratio and, when it rises, why in words."""
    this_week, before = series[0], series[1:]
    baseline = sum(before) / len(before)
    ratio = this_week / baseline if baseline else None
    rising = this_week >= MIN_COUNT and this_week >= RISE * max(baseline, 1.0)
    where = None
    if cities:
        city, count = cities.most_common(1)[0]
        if count >= MOSTLY * this_week:
            where = {"city": city, "count": count}
    explained = None
    if rising:
        times = f"×{ratio:.1f}" if ratio else "new"
        explained = (
            f"{label} {times} vs the last {BASELINE_WEEKS} weeks "
            f"({this_week} vs {baseline:.1f} a week)"
        )
        if where:
            explained += f", mostly {where['city']} ({where['count']} of {this_week})"
    return {
        "label": label,
        "weeks": series,  # the last 7 days first
        "this_week": this_week,
        "baseline": round(baseline, 2),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "rising": rising,
        "mostly": where,
        "explained": explained,
    }


def _loads(detail: str | None) -> dict[str, Any]:
    try:
        value = json.loads(detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
