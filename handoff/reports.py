"""The overview report: conversations, containment, handoffs, waits, SLA and CSAT over time.

Every figure comes from the record (handoff/facts.py): the contacts rollup answers "how many
conversations, how many contained, how many needed a person", and the cases (whose times the
case store writes with its audit log) answer "how long did people take, was the SLA met,
what did customers say". docs/analytics.md defines each figure; this module is those
definitions as code, and the same code on SQLite and PostgreSQL (the percentiles and the
local-time buckets are computed here, not by the database), so both give the same numbers.

Speed: contacts are counted by the database, grouped by quarter hour (UTC), channel, team,
reason and outcome, which is a few thousand groups even at a million messages; cases are
read as one row each (six numbers). bench/reports.py measures it.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.database import reader
from handoff.models import agents, cases, contacts

HOUR = 3600.0
REPEAT_WINDOW = 72 * HOUR  # a contact is not contained if the customer is back this soon
BUCKET = 900  # seconds: quarter hours keep every time zone's local hours exact
MAX_DAYS = 366
NO_TEAM = "none"
OPEN = ("queued", "assigned")
DAY_COLUMNS = (
    "date",
    "conversations",
    "contained",
    "containment_rate",
    "handoffs",
    "handoff_rate",
    "first_response_p50",
    "first_response_p90",
    "sla_met_rate",
    "csat_count",
    "csat_mean",
)


class ReportError(ValueError):
    """The request cannot be answered as asked (bad dates, a period too long)."""


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` inclusive, in the business's time zone."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> float:
        """Unix seconds of `first` at 00:00 local."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> float:
        """Unix seconds of the day after `last` at 00:00 local (excluded)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def period(first: str | None, last: str | None, zone: ZoneInfo, today: date) -> Period:
    """The period a request names (`YYYY-MM-DD`, both optional: the last 28 days)."""
    try:
        to_day = date.fromisoformat(last) if last else today
        from_day = date.fromisoformat(first) if first else to_day - timedelta(days=27)
    except ValueError as error:
        raise ReportError("from and to must be dates written YYYY-MM-DD") from error
    if from_day > to_day:
        raise ReportError("from must not be after to")
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise ReportError(f"a report covers at most {MAX_DAYS} days")
    return Period(from_day, to_day, zone)


@dataclass
class _Figures:
    """The figures of one slice (all, a channel, a team, a day) while they are counted."""

    conversations: int = 0
    contained: int = 0
    provisional: int = 0
    handoffs: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_response: Sequence[float] = ()
    resolution: Sequence[float] = ()
    sla: Counter[str] = field(default_factory=Counter)
    csat_count: int = 0
    csat_sum: int = 0

    def as_dict(self) -> dict[str, Any]:
        met, missed = self.sla["met"], self.sla["missed"]
        return {
            "conversations": self.conversations,
            "contained": self.contained,
            "containment_rate": _rate(self.contained, self.conversations),
            "provisional": self.provisional,
            "handoffs": self.handoffs,
            "handoff_rate": _rate(self.handoffs, self.conversations),
            "handoffs_by_reason": dict(sorted(self.reasons.items())),
            "first_response_seconds": _spread(self.first_response),
            "resolution_seconds": _spread(self.resolution),
            "sla": {"met": met, "missed": missed, "pending": self.sla["pending"]},
            "sla_met_rate": _rate(met, met + missed),
            "csat": {
                "count": self.csat_count,
                "mean": round(self.csat_sum / self.csat_count, 3) if self.csat_count else None,
            },
        }


class Reports:
    """Answers the overview report from the handoff database."""

    def __init__(
        self,
        engine: Engine,
        zone: ZoneInfo,
        clock: Callable[[], float] = time.time,
        repeat_window: float = REPEAT_WINDOW,
    ) -> None:
        """`zone`: the business's time zone (days, hours and weekdays are local)."""
        self._reader = reader(engine)
        self.zone = zone
        self._clock = clock
        self._repeat = repeat_window

    def period(self, first: str | None, last: str | None) -> Period:
        """The period a request names, with today in the business's time zone."""
        today = datetime.fromtimestamp(self._clock(), self.zone).date()
        return period(first, last, self.zone, today)

    def overview(
        self, when: Period, channel: str | None = None, team: str | None = None
    ) -> dict[str, Any]:
        """The overview report (docs/analytics.md has every definition)."""
        total = _Figures()
        by_channel: defaultdict[str, _Figures] = defaultdict(_Figures)
        by_team: defaultdict[str, _Figures] = defaultdict(_Figures)
        by_day: defaultdict[date, _Figures] = defaultdict(_Figures)
        hours, weekdays = [0] * 24, [0] * 7
        local = _local_bucket(self.zone)
        with self._reader.connect() as connection:
            # Contacts: by channel, team, reason and outcome for the slices; by quarter hour
            # and outcome for the series. Both grouped by the database: a few thousand rows.
            slices = self._contacts_query(when, channel, team, by_time=False)
            for row in connection.execute(slices):
                figures_of = [total, by_channel[row.channel]]
                if row.outcome == "handoff":
                    figures_of.append(by_team[row.team or NO_TEAM])
                for figures in figures_of:
                    _count_contacts(figures, row.outcome, row.reason, int(row.n))
            for row in connection.execute(self._contacts_query(when, channel, team, by_time=True)):
                count = int(row.n)
                day, hour, weekday = local(int(row.bucket))
                hours[hour] += count
                weekdays[weekday] += count
                _count_contacts(by_day[day], row.outcome, None, count)
            cases_of = _Cases(connection.execute(self._cases_query(when, channel, team)).all())
            names = dict(
                connection.execute(
                    sa.select(agents.c.id, agents.c.display_name).where(
                        agents.c.id.in_(cases_of.agents())
                    )
                ).all()
            )
            channels, teams = self._choices(connection, when)
        now = self._clock()
        cases_of.count(total, cases_of.everything(), now)
        for name, mask in cases_of.groups(cases_of.channel):
            cases_of.count(by_channel[name], mask, now)
        for name, mask in cases_of.groups(cases_of.team):
            cases_of.count(by_team[name], mask, now)
        for day, mask in cases_of.days(when):
            cases_of.count(by_day[day], mask, now)
        csat_by_agent = cases_of.csat_by_agent()
        report = {
            "from": when.first.isoformat(),
            "to": when.last.isoformat(),
            "timezone": self.zone.key,
            "filters": {"channel": channel, "team": team},
            **total.as_dict(),
            "by_channel": {name: f.as_dict() for name, f in sorted(by_channel.items())},
            "by_team": {name: f.as_dict() for name, f in sorted(by_team.items())},
            "series": {
                "days": [_day_row(day, by_day.get(day, _Figures())) for day in when.days()],
                "hours": hours,
                "weekdays": weekdays,
            },
            "csat_by_agent": [
                {
                    "agent_id": agent_id,
                    "name": names.get(agent_id, f"#{agent_id}"),
                    "count": count,
                    "mean": round(score_sum / count, 3),
                }
                for agent_id, (count, score_sum) in sorted(csat_by_agent.items())
            ],
            "channels": channels,
            "teams": teams,
        }
        return report

    def days_csv(self, report: dict[str, Any]) -> str:
        """The report's days as CSV, one row a day (the columns of DAY_COLUMNS)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=DAY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in report["series"]["days"]:
            writer.writerow({key: "" if row[key] is None else row[key] for key in DAY_COLUMNS})
        return out.getvalue()

    # --- queries ------------------------------------------------------------------------

    def _contacts_query(
        self, when: Period, channel: str | None, team: str | None, *, by_time: bool
    ) -> Any:
        """Contacts started in the period, counted by outcome and their keys.

        The keys are the quarter hour (`by_time`: the series), or the channel, the team and the
        reason of the contact's case (the slices).
        """
        bucket = _bucket_of(contacts.c.started_at, self._reader.dialect.name).label("bucket")
        repeat = contacts.c.next_started_at - contacts.c.last_in_at <= self._repeat
        outcome = sa.case(
            (contacts.c.case_id.is_not(None), "handoff"),
            (sa.and_(contacts.c.next_started_at.is_not(None), repeat), "repeat"),
            (
                sa.and_(
                    contacts.c.next_started_at.is_(None),
                    contacts.c.last_in_at > self._clock() - self._repeat,
                ),
                "provisional",
            ),
            else_="contained",
        ).label("outcome")
        keys = [bucket] if by_time else [contacts.c.channel, cases.c.team, cases.c.reason]
        # The outcome needs only the contact's own columns: the cases are joined for the team
        # and reason of the slices, or to filter by team.
        joined = not by_time or bool(team)
        query = (
            sa.select(*keys, outcome, sa.func.count().label("n"))
            .select_from(
                contacts.outerjoin(cases, cases.c.id == contacts.c.case_id) if joined else contacts
            )
            .where(contacts.c.started_at >= when.start, contacts.c.started_at < when.end)
            .group_by(*keys, outcome)
        )
        if channel:
            query = query.where(contacts.c.channel == channel)
        if team:
            query = query.where(cases.c.team == team)
        return query

    @staticmethod
    def _cases_query(when: Period, channel: str | None, team: str | None) -> Any:
        query = sa.select(
            cases.c.created_at,
            cases.c.channel,
            cases.c.team,
            cases.c.status,
            cases.c.assignee_id,
            cases.c.first_reply_at,
            cases.c.resolved_at,
            cases.c.sla_due_at,
            cases.c.csat_score,
        ).where(cases.c.created_at >= when.start, cases.c.created_at < when.end)
        if channel:
            query = query.where(cases.c.channel == channel)
        if team:
            query = query.where(cases.c.team == team)
        return query

    @staticmethod
    def _choices(connection: Any, when: Period) -> tuple[list[str], list[str]]:
        """The channels and teams a filter can pick: those of the period, and agents' teams."""
        in_period = (contacts.c.started_at >= when.start, contacts.c.started_at < when.end)
        channels = set(
            connection.execute(sa.select(contacts.c.channel).where(*in_period).distinct())
            .scalars()
            .all()
        )
        opened = (cases.c.created_at >= when.start, cases.c.created_at < when.end)
        channels.update(
            connection.execute(sa.select(cases.c.channel).where(*opened).distinct()).scalars()
        )
        teams = set(connection.execute(sa.select(cases.c.team).where(*opened).distinct()).scalars())
        teams.update(connection.execute(sa.select(agents.c.team).distinct()).scalars())
        return sorted(channels), sorted(t for t in teams if t)


# --- counting -------------------------------------------------------------------------


def _count_contacts(figures: _Figures, outcome: str, reason: str | None, count: int) -> None:
    figures.conversations += count
    if outcome in ("contained", "provisional"):
        figures.contained += count
    if outcome == "provisional":
        figures.provisional += count
    if outcome == "handoff":
        figures.handoffs += count
        figures.reasons[reason or "unknown"] += count


class _Cases:
    """The period's cases as columns, counted per slice with NumPy (100,000 in milliseconds)."""

    def __init__(self, rows: Sequence[Any]) -> None:
        columns = list(zip(*rows, strict=True)) if rows else [()] * 9
        self.created = _floats(columns[0])
        self.channel = np.array(columns[1], dtype=object)
        self.team = np.array([team or NO_TEAM for team in columns[2]], dtype=object)
        self.open = np.array([status in OPEN for status in columns[3]], dtype=bool)
        self.assignee = _floats(columns[4])
        self.first_reply = _floats(columns[5])
        self.resolved = _floats(columns[6])
        self.due = _floats(columns[7])
        self.csat = _floats(columns[8])

    def everything(self) -> np.ndarray:
        return np.ones(len(self.created), dtype=bool)

    def groups(self, column: np.ndarray) -> Iterable[tuple[str, np.ndarray]]:
        for value in sorted(set(column.tolist())):
            yield value, column == value

    def days(self, when: Period) -> Iterable[tuple[date, np.ndarray]]:
        """Each local day of the period and its cases (by opening time)."""
        days = when.days()
        edges = np.array([_midnight(day, when.zone) for day in days] + [when.end])
        index = np.searchsorted(edges, self.created, side="right") - 1
        for number, day in enumerate(days):
            yield day, index == number

    def agents(self) -> list[int]:
        return sorted({int(a) for a in self.assignee[~np.isnan(self.assignee)]})

    def count(self, figures: _Figures, mask: np.ndarray, now: float) -> None:
        """A slice's waits, SLA and CSAT (docs/analytics.md)."""
        created, first, resolved, due = (
            self.created[mask],
            self.first_reply[mask],
            self.resolved[mask],
            self.due[mask],
        )
        replied, finished, still_open = ~np.isnan(first), ~np.isnan(resolved), self.open[mask]
        figures.first_response = (first - created)[replied]
        figures.resolution = (resolved - created)[finished]
        # met | missed | pending | none: a first reply by the due time the case was given
        # (from the policy in force when it opened). A case finished before its due time
        # without any reply had nothing to meet: left out of the rate.
        ended = np.where(finished, resolved, now)
        missed = np.where(
            replied,
            first > due,
            np.where(still_open, now > due, ended > due),
        )
        figures.sla["met"] = int(np.count_nonzero(replied & (first <= due)))
        figures.sla["missed"] = int(np.count_nonzero(missed))
        figures.sla["pending"] = int(np.count_nonzero(~replied & still_open & (now <= due)))
        scores = self.csat[mask]
        answered = scores[~np.isnan(scores)]
        figures.csat_count = int(answered.size)
        figures.csat_sum = int(answered.sum())

    def csat_by_agent(self) -> dict[int, tuple[int, int]]:
        """Each agent's (answers, sum of scores) over their cases."""
        found: dict[int, tuple[int, int]] = {}
        answered = ~np.isnan(self.csat) & ~np.isnan(self.assignee)
        for agent in sorted({int(a) for a in self.assignee[answered]}):
            scores = self.csat[answered & (self.assignee == agent)]
            found[agent] = (int(scores.size), int(scores.sum()))
        return found


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _day_row(day: date, figures: _Figures) -> dict[str, Any]:
    values = figures.as_dict()
    return {
        "date": day.isoformat(),
        "conversations": values["conversations"],
        "contained": values["contained"],
        "containment_rate": values["containment_rate"],
        "handoffs": values["handoffs"],
        "handoff_rate": values["handoff_rate"],
        "first_response_p50": values["first_response_seconds"]["p50"],
        "first_response_p90": values["first_response_seconds"]["p90"],
        "sla_met_rate": values["sla_met_rate"],
        "csat_count": values["csat"]["count"],
        "csat_mean": values["csat"]["mean"],
    }


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile with linear interpolation between ranks (numpy's default)."""
    if len(values) == 0:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=float), fraction * 100)), 3)


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {"count": len(values), "p50": percentile(values, 0.5), "p90": percentile(values, 0.9)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def _bucket_of(column: Any, dialect: str) -> Any:
    """The quarter hour (UTC) a time falls in, as an integer, the same on both databases."""
    if dialect == "sqlite":  # CAST truncates, and times are positive
        return sa.cast(column / BUCKET, sa.Integer)
    return sa.cast(sa.func.floor(column / BUCKET), sa.BigInteger)


def _local_bucket(zone: ZoneInfo) -> Callable[[int], tuple[date, int, int]]:
    """Quarter hour -> (local date, local hour, local weekday)."""

    @cache
    def local(bucket: int) -> tuple[date, int, int]:
        moment = datetime.fromtimestamp(bucket * BUCKET, zone)
        return moment.date(), moment.hour, moment.weekday()

    return local
