"""The handoff's public entry points: park a conversation with people, and say when.

`Handoff.park()` is what the bot calls (actions/handoff.py) and what the fail-safe calls
when the bot itself fails (handoff/plugin.py): it opens the case with everything the bot
knows, gives it to an agent with room if there is one, and computes the honest promise for
the customer from business hours, the SLA and the queue ahead (handoff/hours.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from connectors.registry import window_rules
from handoff.case import PRIORITY_BY_REASON, Case, Reason, Status
from handoff.database import make_engine
from handoff.facts import Facts
from handoff.hours import (
    BusinessHours,
    SlaPolicy,
    expected_reply_at,
    load_policy,
    out_of_hours_notice,
    phrase,
)
from handoff.models import agents, cases
from handoff.store import CaseStore, NewCase
from handoff.summary import summarize


@dataclass(frozen=True)
class Parked:
    """A conversation now with people: its case and what to tell the customer."""

    case: Case
    new: bool  # False: it already had an open case (asked again while waiting)
    when: str  # "hoy antes de las 17:00"
    closed_notice: str | None  # set when the team is out of hours right now


class Handoff:
    """Parks conversations: one per process (`default()`), or built by tests."""

    def __init__(self, store: CaseStore, hours: BusinessHours, sla: SlaPolicy) -> None:
        """Uses `store` and the support policy (`handoff/support.yml`)."""
        self.store = store
        self.hours = hours
        self.sla = sla

    @functools.cached_property
    def facts(self) -> Facts:
        """The reports' record, in the same database (handoff/facts.py)."""
        return Facts(self.store.engine)

    @classmethod
    @functools.cache
    def default(cls) -> Handoff:
        """The process's handoff, on `handoff.database.database_url()` and support.yml."""
        hours, sla = load_policy()
        return cls(CaseStore(make_engine()), hours, sla)

    def park(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: Reason,
        language: str,
        events: Iterable[dict[str, Any]],
        slots: dict[str, Any],
        now: datetime | None = None,
    ) -> Parked:
        """Opens (or finds) the conversation's case and the promise to make to the customer.

        The case's window closes when the channel's adapter says (connectors/registry.py); a
        channel Hilo does not have raises `UnknownChannel` before anything is written.
        """
        now = now or datetime.now(timezone.utc)
        summary = summarize(events, slots)
        priority = PRIORITY_BY_REASON[reason]
        sla_due = self.hours.add_business_minutes(
            self.hours.next_open(now), self.sla.target(priority.value)
        )
        last_customer = summary.last_customer_at or now.timestamp()
        window_closes = window_rules(channel, conversation_id).closes_at(
            last_customer, from_agent=True
        )
        case, new = self.store.open_case(
            NewCase(
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                language=language,
                sla_due_at=sla_due.timestamp(),
                window_closes_at=window_closes,
                profile_id=summary.profile_id,
                customer_name=summary.customer_name,
                collected=summary.collected,
                media=summary.media,
                summary=summary.text(language),
                last_customer_at=last_customer,
            )
        )
        if new:
            case = self.store.auto_assign(case.id)
        when, closed = self.promise(case, now)
        return Parked(case=case, new=new, when=when, closed_notice=closed)

    def promise(self, case: Case, now: datetime | None = None) -> tuple[str, str | None]:
        """When a person will answer ("hoy antes de las 17:00"); out of hours, when we're back."""
        now = now or datetime.now(timezone.utc)
        promise = expected_reply_at(
            now,
            self.hours,
            self.sla,
            priority=case.priority.value,
            queue_ahead=self._queue_ahead(case),
            agents_online=self._agents_online(),
        )
        return (
            phrase(promise, now, self.hours, case.language),
            out_of_hours_notice(now, self.hours, case.language),
        )

    def _queue_ahead(self, case: Case) -> int:
        """Open cases a person will answer before this one (0 once someone has it)."""
        if case.status is Status.ASSIGNED:
            return 0
        with self.store.reader.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count())
                    .where(cases.c.status == Status.QUEUED.value)
                    .where(cases.c.urgent_at < case.urgent_at)
                ).scalar_one()
            )

    def _agents_online(self) -> int:
        with self.store.reader.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count())
                    .where(agents.c.active.is_(True))
                    .where(agents.c.available.is_(True))
                    .where(agents.c.role.in_(("agent", "supervisor")))
                ).scalar_one()
            )
