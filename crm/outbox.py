"""The delivery records: each event added once, leased to one worker, retried, failed, replayed.

A row of `handoff_webhook_deliveries` is one event for the CRM with its exact body, its
delivery id (X-Hilo-Delivery, the same on every retry) and its state:

    pending ──► delivered
       │  ▲
       │  └── replay (hilo webhooks replay)
       └──► failed (still failing `max_age` after it was made)
    pending ──► erased (the person's data was erased before it was sent: never sent)

`add` inserts by a unique key of the source record and ignores one already there, so a feed
that runs again after a crash, or on two desks at once, makes each delivery once. `claim`
leases due rows to a worker (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, then a lease
column, so a row stays out of other workers' hands while its POST is in flight, and returns
to them if the worker dies); every outcome is recorded only by the lease's holder.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm.events import envelope
from handoff.database import reader
from handoff.models import webhook_deliveries as deliveries

PENDING, DELIVERED, FAILED, ERASED = "pending", "delivered", "failed", "erased"
STATES = (PENDING, DELIVERED, FAILED, ERASED)


@dataclass(frozen=True)
class NewDelivery:
    """An event to send, and whose data it holds (so an erasure finds it)."""

    key: str  # unique per source record: "case_event:41", "contact:7:<digest>", …
    event: str
    occurred_at: float
    data: dict[str, Any]
    case_id: int | None = None
    conversation_id: str | None = None
    profile_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    """A delivery leased to a worker."""

    id: int
    delivery_id: str
    event: str
    body: bytes
    attempts: int
    created_at: float


@dataclass(frozen=True)
class FailedDelivery:
    """What `hilo webhooks status` shows of a failed delivery: no personal data."""

    id: int
    delivery_id: str
    event: str
    created_at: float
    attempts: int
    last_status: int | None
    last_error: str | None


class Outbox:
    """The delivery records in the handoff database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Uses `engine` (the handoff database, migrated); `clock` gives Unix seconds."""
        self.engine = engine
        self.reader = reader(engine)
        self.clock = clock

    # --- adding ---------------------------------------------------------------------------

    def add(self, connection: Connection, items: Iterable[NewDelivery]) -> int:
        """Adds each delivery unless its key is there already; returns how many are new.

        Runs in the caller's transaction: the feed adds deliveries and moves its cursor
        together.
        """
        now = self.clock()
        added = 0
        for item in items:
            delivery_id = str(uuid.uuid4())
            values = {
                "delivery_id": delivery_id,
                "key": item.key,
                "event": item.event,
                "state": PENDING,
                "occurred_at": item.occurred_at,
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
                "case_id": item.case_id,
                "conversation_id": item.conversation_id,
                "profile_id": item.profile_id,
                "payload": envelope(delivery_id, item.event, item.occurred_at, item.data).decode(),
            }
            added += connection.execute(_insert_ignored(connection).values(**values)).rowcount
        return added

    def exists(self, connection: Connection, key: str) -> bool:
        """Whether a delivery with this key was ever made (whatever became of it)."""
        found = connection.execute(
            sa.select(deliveries.c.id).where(deliveries.c.key == key)
        ).first()
        return found is not None

    # --- leasing and outcomes ---------------------------------------------------------------

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Delivery]:
        """Up to `limit` due deliveries, oldest first, leased to `owner` for `lease_seconds`."""
        now = self.clock()
        due = sa.and_(
            deliveries.c.state == PENDING,
            deliveries.c.next_attempt_at <= now,
            sa.or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < now),
        )
        with self.engine.begin() as connection:
            ids = list(
                connection.execute(
                    sa.select(deliveries.c.id)
                    .where(due)
                    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                return []
            connection.execute(
                deliveries.update()
                .where(deliveries.c.id.in_(ids), due)
                .values(lease_owner=owner, leased_until=now + lease_seconds)
            )
            rows = connection.execute(
                sa.select(
                    deliveries.c.id,
                    deliveries.c.delivery_id,
                    deliveries.c.event,
                    deliveries.c.payload,
                    deliveries.c.attempts,
                    deliveries.c.created_at,
                )
                .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner)
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            ).all()
        return [
            Delivery(
                int(row.id),
                row.delivery_id,
                row.event,
                row.payload.encode("utf-8"),
                int(row.attempts),
                float(row.created_at),
            )
            for row in rows
        ]

    def delivered(self, delivery: Delivery, owner: str, status: int) -> bool:
        """The CRM took it; False if the lease was lost (another worker has it now)."""
        now = self.clock()
        return self._finish(
            delivery,
            owner,
            state=DELIVERED,
            attempts=deliveries.c.attempts + 1,
            last_attempt_at=now,
            last_status=status,
            last_error=None,
            finished_at=now,
        )

    def retry(
        self, delivery: Delivery, owner: str, status: int | None, error: str, at: float
    ) -> bool:
        """It failed; try again at `at`. False if the lease was lost."""
        return self._finish(
            delivery,
            owner,
            state=PENDING,
            attempts=deliveries.c.attempts + 1,
            last_attempt_at=self.clock(),
            last_status=status,
            last_error=error[:200],
            next_attempt_at=at,
        )

    def failed(self, delivery: Delivery, owner: str, status: int | None, error: str) -> bool:
        """It kept failing until its maximum age: failed, until replayed."""
        now = self.clock()
        return self._finish(
            delivery,
            owner,
            state=FAILED,
            attempts=deliveries.c.attempts + 1,
            last_attempt_at=now,
            last_status=status,
            last_error=error[:200],
            finished_at=now,
        )

    def postpone(self, leased: Sequence[Delivery], owner: str, at: float) -> int:
        """Gives leased deliveries back unsent, due at `at` (the CRM is down: no attempt)."""
        if not leased:
            return 0
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.id.in_([item.id for item in leased]),
                        deliveries.c.lease_owner == owner,
                        deliveries.c.state == PENDING,
                    )
                    .values(lease_owner=None, leased_until=None, next_attempt_at=at)
                ).rowcount
            )

    def hurry(self) -> int:
        """Makes every delivery waiting after a failure due now (the CRM answered again)."""
        now = self.clock()
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.state == PENDING,
                        deliveries.c.next_attempt_at > now,
                        deliveries.c.attempts > 0,
                    )
                    .values(next_attempt_at=now)
                ).rowcount
            )

    def _finish(self, delivery: Delivery, owner: str, **values: Any) -> bool:
        with self.engine.begin() as connection:
            changed = connection.execute(
                deliveries.update()
                .where(
                    deliveries.c.id == delivery.id,
                    deliveries.c.lease_owner == owner,
                    deliveries.c.state == PENDING,
                )
                .values(lease_owner=None, leased_until=None, **values)
            ).rowcount
        return bool(changed)

    # --- looking and replaying -----------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """{state: {event: n}} for every state (zeros included)."""
        found: dict[str, dict[str, int]] = {state: {} for state in STATES}
        with self.reader.connect() as connection:
            rows = connection.execute(
                sa.select(deliveries.c.state, deliveries.c.event, sa.func.count()).group_by(
                    deliveries.c.state, deliveries.c.event
                )
            ).all()
        for state, event, count in rows:
            found.setdefault(state, {})[event] = int(count)
        return found

    def oldest_pending(self) -> float | None:
        """When the oldest delivery still waiting was made (None: nothing waits)."""
        with self.reader.connect() as connection:
            value = connection.execute(
                sa.select(sa.func.min(deliveries.c.created_at)).where(deliveries.c.state == PENDING)
            ).scalar()
        return None if value is None else float(value)

    def failures(self, limit: int = 50) -> list[FailedDelivery]:
        """The latest failed deliveries with their last error (never their body)."""
        with self.reader.connect() as connection:
            rows = connection.execute(
                sa.select(
                    deliveries.c.id,
                    deliveries.c.delivery_id,
                    deliveries.c.event,
                    deliveries.c.created_at,
                    deliveries.c.attempts,
                    deliveries.c.last_status,
                    deliveries.c.last_error,
                )
                .where(deliveries.c.state == FAILED)
                .order_by(deliveries.c.id.desc())
                .limit(limit)
            ).all()
        return [
            FailedDelivery(
                int(row.id),
                row.delivery_id,
                row.event,
                float(row.created_at),
                int(row.attempts),
                row.last_status,
                row.last_error,
            )
            for row in rows
        ]

    def replay(self, *, ids: Sequence[int] = (), failed: bool = False) -> int:
        """Sends again: the failed deliveries, or these (delivered or failed) by id.

        Same body and delivery id: a CRM that had it already recognises it. Its age counts
        from now, so it gets the whole retry period again. Erased deliveries are never sent.
        """
        if not ids and not failed:
            return 0
        now = self.clock()
        which = []
        if failed:
            which.append(deliveries.c.state == FAILED)
        if ids:
            which.append(
                sa.and_(
                    deliveries.c.id.in_(list(ids)),
                    deliveries.c.state.in_((FAILED, DELIVERED)),
                    deliveries.c.payload != "{}",  # erased: nothing left to send
                )
            )
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    deliveries.update()
                    .where(sa.or_(*which))
                    .values(
                        state=PENDING,
                        created_at=now,
                        next_attempt_at=now,
                        finished_at=None,
                        lease_owner=None,
                        leased_until=None,
                    )
                ).rowcount
            )

    def prune(self, keep_seconds: float) -> int:
        """Deletes deliveries finished (delivered, failed, erased) over `keep_seconds` ago.

        Their bodies are copies of customers' data; the sources they came from are behind
        the feed's cursors, so nothing makes them again.
        """
        before = self.clock() - keep_seconds
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    deliveries.delete().where(
                        deliveries.c.state.in_((DELIVERED, FAILED, ERASED)),
                        sa.func.coalesce(deliveries.c.finished_at, deliveries.c.created_at)
                        < before,
                    )
                ).rowcount
            )

    def body(self, delivery_id: str) -> dict[str, Any] | None:
        """A delivery's body as JSON (tests and tools), by its delivery id."""
        with self.reader.connect() as connection:
            payload = connection.execute(
                sa.select(deliveries.c.payload).where(deliveries.c.delivery_id == delivery_id)
            ).scalar()
        return None if payload is None else dict(json.loads(payload))


def _insert_ignored(connection: Connection) -> sa.sql.Insert:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(deliveries).on_conflict_do_nothing(index_elements=["key"])
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(deliveries).on_conflict_do_nothing(index_elements=["key"])
