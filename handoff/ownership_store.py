"""Who owns each conversation, the bot or people: the record, and the only code that reads it.

Ownership is not where a case is in its life (queued, assigned, resolved, closed:
handoff/case.py), so it has its own row per conversation (`handoff_ownership`): `owner`,
the case that made the last change, and `pending`, the outbox of a change the store has
decided but Rasa's tracker has not seen yet. Only one change ever waits there, the way back
to the bot (`to_bot`): the way to people is written to the tracker by the same turn that
parks the case (the handoff action returns the events; the fail-safe writes them at once).

`CaseStore` (handoff/store.py) calls the writers below inside the transaction of the case's
move, so the case and the record never disagree:

- a case parked → `people`, nothing pending (`to_people`);
- resolved with `return_to_bot` → still `people`, `to_bot` pending (`request_to_bot`);
- the hand-back applied to the tracker → `bot`, nothing pending, `applied_at`
  (`applied_to_bot`: conditional on the pending change being this case's, so a retry or a
  second replica finds nothing left to do);
- closed, re-queued, released, transferred: people keep it, the record does not change.

Invariant: `applied_at` is None exactly while something is pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from handoff.models import ownership


class Owner(str, Enum):
    """Who answers the customer."""

    BOT = "bot"
    PEOPLE = "people"


TO_BOT = "to_bot"  # the only pending change: resolved, the tracker not yet resumed


@dataclass(frozen=True)
class Ownership:
    """One conversation's record. Times are Unix seconds (UTC)."""

    conversation_id: str
    owner: Owner
    case_id: int
    pending: str | None
    changed_at: float
    applied_at: float | None

    @property
    def with_people(self) -> bool:
        """The bot must stay silent (a pending hand-back included: the tracker is paused)."""
        return self.owner is Owner.PEOPLE

    @property
    def handing_back(self) -> bool:
        """An agent gave the conversation back to the bot; Rasa's tracker does not know yet."""
        return self.pending == TO_BOT


def get(connection: Connection, conversation_id: str) -> Ownership | None:
    """The conversation's record; None if it was never with people."""
    row = connection.execute(
        sa.select(ownership).where(ownership.c.conversation_id == conversation_id)
    ).first()
    return _to_ownership(row) if row is not None else None


def pending(connection: Connection, limit: int) -> list[Ownership]:
    """Records whose hand-back is not applied yet, oldest change first (the sweep's)."""
    query = (
        sa.select(ownership)
        .where(ownership.c.pending == TO_BOT)
        .order_by(ownership.c.changed_at)
        .limit(limit)
    )
    return [_to_ownership(row) for row in connection.execute(query)]


def to_people(connection: Connection, conversation_id: str, case_id: int, now: float) -> None:
    """People own the conversation, for `case_id`; a pending hand-back is cancelled.

    An update, else an insert: a concurrent first handoff of the same conversation fails on
    the cases' unique index before it gets here (handoff/store.py `open_case`).
    """
    values = {
        "owner": Owner.PEOPLE.value,
        "case_id": case_id,
        "pending": None,
        "changed_at": now,
        "applied_at": now,
    }
    updated = connection.execute(
        ownership.update().where(ownership.c.conversation_id == conversation_id).values(**values)
    ).rowcount
    if not updated:
        connection.execute(ownership.insert().values(conversation_id=conversation_id, **values))


def request_to_bot(connection: Connection, conversation_id: str, case_id: int, now: float) -> bool:
    """The hand-back of `case_id` is pending; False if people do not own it for that case."""
    return bool(
        connection.execute(
            ownership.update()
            .where(ownership.c.conversation_id == conversation_id)
            .where(ownership.c.case_id == case_id)
            .where(ownership.c.owner == Owner.PEOPLE.value)
            .where(ownership.c.pending.is_(None))
            .values(pending=TO_BOT, changed_at=now, applied_at=None)
        ).rowcount
    )


def applied_to_bot(connection: Connection, conversation_id: str, case_id: int, now: float) -> bool:
    """The bot owns the conversation again; False if `case_id`'s hand-back was not pending.

    Not pending means done already (a retry, another replica) or cancelled by a new handoff:
    either way there is nothing left to record.
    """
    return bool(
        connection.execute(
            ownership.update()
            .where(ownership.c.conversation_id == conversation_id)
            .where(ownership.c.case_id == case_id)
            .where(ownership.c.pending == TO_BOT)
            .values(owner=Owner.BOT.value, pending=None, changed_at=now, applied_at=now)
        ).rowcount
    )


def _to_ownership(row: Row) -> Ownership:
    return Ownership(
        conversation_id=row.conversation_id,
        owner=Owner(row.owner),
        case_id=row.case_id,
        pending=row.pending,
        changed_at=row.changed_at,
        applied_at=row.applied_at,
    )
