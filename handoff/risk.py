"""Customers at risk of leaving: a score made of points, each with a reason anyone can read.

Over the last `DAYS` (30), per conversation, from the record (handoff/facts.py) and the cases:

- `repeat`, 2 points each: a contact that started within 7 days of the one before;
- `complaint`, 3 each: a message read as a complaint, or a case opened for one (the larger
  count of the two: a complaint heard usually opens a complaint case);
- `low_csat`, 3 each: a satisfaction answer of 1 or 2;
- `cancelled`, `returned`, `damaged`, 2 each: an order cancelled, a return opened, an item
  that arrived damaged (the response the bot sent says so: handoff/facts.py);
- `long_wait`, 2 each: a case whose first reply came after its SLA, or none came and it is
  overdue.

The score is the sum, with no weights hidden elsewhere and no model: every point is listed with
its reason, in Spanish and English. A customer is listed from `THRESHOLD` (4) points. The desk
shows the list to supervisors and each case's own score on its card (`for_conversation`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.database import reader
from handoff.facts import conversation_ref
from handoff.models import cases, contacts, facts

DAY = 86400.0
DAYS = 30
REPEAT_WITHIN = 7 * DAY
THRESHOLD = 4
POINTS = {
    "repeat": 2,
    "complaint": 3,
    "low_csat": 3,
    "cancelled": 2,
    "returned": 2,
    "damaged": 2,
    "long_wait": 2,
}
REASONS = {
    "repeat": ("volvió a escribir en menos de 7 días", "wrote again within 7 days"),
    "complaint": ("se quejó", "complained"),
    "low_csat": ("calificó la atención con 1 o 2", "rated the service 1 or 2"),
    "cancelled": ("canceló un pedido", "cancelled an order"),
    "returned": ("devolvió un pedido", "returned an order"),
    "damaged": ("recibió un producto dañado", "received a damaged item"),
    "long_wait": ("esperó más que el SLA a una persona", "waited for a person past the SLA"),
}


@dataclass
class Risk:
    """One customer's score and its reasons."""

    conversation_ref: str
    signals: dict[str, int] = field(default_factory=dict)
    case_id: int | None = None  # their latest case in the period, for the desk to open
    name: str | None = None
    channel: str | None = None

    def add(self, signal: str, count: int = 1) -> None:
        """Counts `count` more of a signal."""
        self.signals[signal] = self.signals.get(signal, 0) + count

    @property
    def score(self) -> int:
        """The sum of every signal's points."""
        return sum(POINTS[signal] * count for signal, count in self.signals.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, the reasons with their points."""
        return {
            "conversation_ref": self.conversation_ref,
            "score": self.score,
            "case_id": self.case_id,
            "name": self.name,
            "channel": self.channel,
            "reasons": [
                {
                    "signal": signal,
                    "count": count,
                    "points": POINTS[signal] * count,
                    "es": REASONS[signal][0],
                    "en": REASONS[signal][1],
                }
                for signal, count in sorted(
                    self.signals.items(), key=lambda s: (-POINTS[s[0]] * s[1], s[0])
                )
            ],
        }


class RiskScores:
    """Scores customers from the handoff database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Counts the last `DAYS` up to `clock()`."""
        self._reader = reader(engine)
        self._clock = clock

    def at_risk(self, limit: int = 50) -> list[dict[str, Any]]:
        """The customers with at least THRESHOLD points, the highest first."""
        every = self._score(None)
        scores = {
            ref: sum(POINTS[signal] * count for signal, count in signals.items())
            for ref, signals in every.items()
        }
        listed = sorted(
            (ref for ref, score in scores.items() if score >= THRESHOLD),
            key=lambda ref: (-scores[ref], ref),
        )[:limit]
        shown = [Risk(ref, every[ref]) for ref in listed]
        self._identify(shown)
        return [risk.to_dict() for risk in shown]

    def for_conversation(self, conversation_id: str) -> dict[str, Any]:
        """One conversation's score and reasons (for its case card), listed or not."""
        ref = conversation_ref(conversation_id)
        found = Risk(ref, self._score({ref: conversation_id}).get(ref) or {})
        return {**found.to_dict(), "listed": found.score >= THRESHOLD}

    def _score(self, only: dict[str, str] | None) -> dict[str, dict[str, int]]:
        """Every signal of the period, per conversation (only `only`'s, when given).

        Each signal is counted by the database, so a period of a hundred thousand contacts
        costs a few grouped queries; only the cases that carry a signal are read one by one.
        """
        now = self._clock()
        since = now - DAYS * DAY
        signals: defaultdict[str, dict[str, int]] = defaultdict(dict)

        def add(ref: str, signal: str, count: int = 1) -> None:
            signals[ref][signal] = signals[ref].get(signal, 0) + count

        refs = list(only) if only is not None else None
        with self._reader.connect() as connection:
            # A contact within 7 days of the conversation's previous one (LAG over contacts).
            previous = (
                sa.func.lag(contacts.c.started_at)
                .over(partition_by=contacts.c.conversation_ref, order_by=contacts.c.started_at)
                .label("previous")
            )
            recent = _only(
                sa.select(contacts.c.conversation_ref, contacts.c.started_at, previous).where(
                    contacts.c.started_at >= since - REPEAT_WITHIN
                ),
                contacts.c.conversation_ref,
                refs,
            ).subquery()
            repeats = (
                sa.select(recent.c.conversation_ref, sa.func.count())
                .where(
                    recent.c.started_at >= since,
                    recent.c.started_at - recent.c.previous <= REPEAT_WITHIN,
                )
                .group_by(recent.c.conversation_ref)
            )
            for ref, count in connection.execute(repeats):
                add(ref, "repeat", int(count))
            said = (
                sa.select(facts.c.conversation_ref, facts.c.kind, facts.c.intent, sa.func.count())
                .where(
                    facts.c.at >= since,
                    sa.or_(
                        sa.and_(facts.c.kind == "message_in", facts.c.intent == "complaint"),
                        sa.and_(
                            facts.c.kind == "order",
                            facts.c.intent.in_(("cancelled", "returned", "damaged")),
                        ),
                    ),
                )
                .group_by(facts.c.conversation_ref, facts.c.kind, facts.c.intent)
            )
            for ref, kind, intent, count in connection.execute(
                _only(said, facts.c.conversation_ref, refs)
            ):
                add(ref, "complaint" if kind == "message_in" else intent, int(count))
            late = sa.or_(
                cases.c.first_reply_at > cases.c.sla_due_at,
                sa.and_(
                    cases.c.first_reply_at.is_(None),
                    cases.c.status.in_(("queued", "assigned")),
                    cases.c.sla_due_at < now,
                ),
            )
            with_signal = sa.select(
                cases.c.conversation_id, cases.c.reason, cases.c.csat_score, late.label("late")
            ).where(
                cases.c.created_at >= since,
                sa.or_(cases.c.reason == "complaint", cases.c.csat_score <= 2, late),
            )
            if only is not None:
                with_signal = with_signal.where(cases.c.conversation_id.in_(list(only.values())))
            # A complaint the bot heard usually opens a complaint case: one complaint, not two.
            complaint_cases: defaultdict[str, int] = defaultdict(int)
            for case in connection.execute(with_signal):
                ref = conversation_ref(case.conversation_id)
                if case.reason == "complaint":
                    complaint_cases[ref] += 1
                if case.csat_score is not None and int(case.csat_score) <= 2:
                    add(ref, "low_csat")
                if case.late:
                    add(ref, "long_wait")
        for ref, count in complaint_cases.items():
            signals[ref]["complaint"] = max(signals[ref].get("complaint", 0), count)
        return dict(signals)

    def _identify(self, shown: list[Risk]) -> None:
        """Who the listed customers are: their latest case's name and channel, if any.

        Else the channel of their latest contact. Cases are found through the contacts that
        opened them, so no case's conversation id is hashed to find its pseudonym.
        """
        if not shown:
            return
        by_ref = {risk.conversation_ref: risk for risk in shown}
        with self._reader.connect() as connection:
            latest = connection.execute(
                sa.select(
                    contacts.c.conversation_ref,
                    contacts.c.channel,
                    contacts.c.case_id,
                    cases.c.customer_name,
                    cases.c.channel.label("case_channel"),
                )
                .select_from(contacts.outerjoin(cases, cases.c.id == contacts.c.case_id))
                .where(contacts.c.conversation_ref.in_(list(by_ref)))
                .order_by(contacts.c.started_at)
            )
            for row in latest:
                found = by_ref[row.conversation_ref]
                if row.case_id is not None:
                    found.case_id, found.name = int(row.case_id), row.customer_name
                    found.channel = row.case_channel
                elif found.case_id is None:
                    found.channel = row.channel


def _only(query: Any, column: Any, refs: Iterable[str] | None) -> Any:
    return query if refs is None else query.where(column.in_(list(refs)))
