"""The durable inbox: every customer message is stored here before it is acknowledged.

A message is `pending` until the dispatcher claims it (`processing`), then `done` or `failed`.
A provider's retry of the same delivery hits the unique (channel, provider_id) key and is
acknowledged without being stored or processed again.

Whoever claims holds the conversation's lease (connectors/leases.py: one process at a time,
across replicas). So a message the claimer finds still `processing` was interrupted: its
process died, or lost the database, in the middle of the turn. `claim_next` takes it again
first (`attempts` counts the tries), and nothing accepted is lost. `recover()` lists the
conversations with such work, at start-up and in each replica's sweep.

Ordering: a conversation's pending messages are taken oldest first by the provider's
timestamp, then by arrival, so a delivery that arrives late (a provider retry) still goes
before the customer's later messages when both are waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.messages import InboundMessage
from connectors.storage import Database, announce_change, as_database, inbound

PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"


@dataclass(frozen=True)
class InboxItem:
    """A stored inbound message and its inbox row id (the reply key for the outbound store)."""

    id: int
    message: InboundMessage
    attempts: int


class Inbox:
    """Stores, dedupes and hands out inbound messages; one table, any SQLAlchemy database."""

    def __init__(self, database: Database | Engine) -> None:
        """Uses the channels database (tables created by `connectors.storage.make_engine`)."""
        self.database = as_database(database)
        self.engine = self.database.engine

    def _insert(self, message: InboundMessage) -> Any:
        values = {
            "channel": message.channel,
            "provider_id": message.provider_id,
            "conversation_id": message.conversation_id,
            "sent_at": message.sent_at,
            "received_at": time.time(),
            "body": message.to_json(),
            "status": PENDING,
            "attempts": 0,
        }

        def insert(connection: Connection) -> int | None:
            row_id = self.database.insert_ignoring_conflict(
                connection, inbound, values, ["channel", "provider_id"]
            )
            if row_id is not None:
                announce_change(connection, new_message=True)
            return row_id

        return insert

    def accept(self, message: InboundMessage) -> InboxItem | None:
        """Stores `message`; None when this delivery was already stored (a duplicate)."""
        row_id = self.database.write(self._insert(message), durable=True)
        return None if row_id is None else InboxItem(id=row_id, message=message, attempts=0)

    async def accept_async(self, message: InboundMessage) -> InboxItem | None:
        """`accept` without blocking the event loop (the webhook's path)."""
        row_id = await self.database.write_async(self._insert(message), durable=True)
        return None if row_id is None else InboxItem(id=row_id, message=message, attempts=0)

    def claim_next(self, conversation_id: str, *, leased: bool = False) -> InboxItem | None:
        """The conversation's oldest pending message, now marked `processing`; None if none.

        The update is conditional on the row still being pending, so two claimers never take
        the same message. `leased`: the caller holds the conversation's lease, so a message
        still `processing` was interrupted and is claimed again, in its place in the order.
        """
        return self.database.write(
            lambda connection: self._claim(connection, conversation_id, leased)
        )

    @staticmethod
    def _claim(connection: Connection, conversation_id: str, leased: bool) -> InboxItem | None:
        if leased:
            connection.execute(
                inbound.update()
                .where(inbound.c.conversation_id == conversation_id)
                .where(inbound.c.status == PROCESSING)
                .values(status=PENDING, error="interrupted")
            )
        while True:
            row = connection.execute(
                sa.select(inbound.c.id, inbound.c.body, inbound.c.attempts)
                .where(inbound.c.conversation_id == conversation_id)
                .where(inbound.c.status == PENDING)
                .order_by(inbound.c.sent_at, inbound.c.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            claimed = connection.execute(
                inbound.update()
                .where(inbound.c.id == row.id)
                .where(inbound.c.status == PENDING)
                .values(status=PROCESSING, attempts=inbound.c.attempts + 1)
            ).rowcount
            if claimed:
                return InboxItem(
                    id=int(row.id),
                    message=InboundMessage.from_json(row.body),
                    attempts=int(row.attempts) + 1,
                )

    def update_message(self, item_id: int, message: InboundMessage) -> None:
        """Rewrites a stored message (media references after download)."""
        statement = inbound.update().where(inbound.c.id == item_id).values(body=message.to_json())
        self.database.write(lambda connection: connection.execute(statement))

    def finish(self, item_id: int) -> None:
        """Marks a message processed."""
        self._set(item_id, DONE, None)

    def fail(self, item_id: int, error: str) -> None:
        """Marks a message failed, with the error's category (never message content)."""
        self._set(item_id, FAILED, error[:255])

    def release(self, item_id: int, error: str) -> None:
        """Puts a message back to pending (a retry after a transient failure)."""
        statement = (
            inbound.update()
            .where(inbound.c.id == item_id)
            .values(status=PENDING, error=error[:255])
        )
        self.database.write(lambda connection: connection.execute(statement))

    def _set(self, item_id: int, status: str, error: str | None) -> None:
        statement = (
            inbound.update()
            .where(inbound.c.id == item_id)
            .values(status=status, error=error, processed_at=time.time())
        )
        self.database.write(lambda connection: connection.execute(statement))

    def recover(self) -> list[str]:
        """Conversations with unfinished messages (pending, or interrupted mid-turn), oldest first.

        Nothing is reset here: another replica may be processing some of them right now. The
        lane that gets a conversation's lease claims its interrupted message again.
        """
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.conversation_id)
                .where(inbound.c.status.in_((PENDING, PROCESSING)))
                .group_by(inbound.c.conversation_id)
                .order_by(sa.func.min(inbound.c.id))
            ).all()
        return [row.conversation_id for row in rows]

    def pending_since(self, received_after: float) -> list[str]:
        """Conversations with messages pending that were stored after `received_after`.

        What a replica looks at when told that a message was stored elsewhere: the recent
        pending ones only, not the interrupted turns other replicas hold (the sweep's job).
        """
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.conversation_id)
                .where(inbound.c.status == PENDING)
                .where(inbound.c.received_at > received_after)
                .group_by(inbound.c.conversation_id)
                .order_by(sa.func.min(inbound.c.id))
            ).all()
        return [row.conversation_id for row in rows]

    def has_pending(self, conversation_id: str) -> bool:
        """Whether the conversation has a message nobody has claimed yet."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(inbound.c.id)
                .where(inbound.c.conversation_id == conversation_id)
                .where(inbound.c.status == PENDING)
                .limit(1)
            ).first()
        return row is not None

    def has_unfinished(self, conversation_id: str) -> bool:
        """Whether the conversation has a message pending or in a turn (a lane's last look)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(inbound.c.id)
                .where(inbound.c.conversation_id == conversation_id)
                .where(inbound.c.status.in_((PENDING, PROCESSING)))
                .limit(1)
            ).first()
        return row is not None

    def conversation(self, conversation_id: str, limit: int = 500) -> list[InboundMessage]:
        """A conversation's latest stored messages, oldest first (history views)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.body)
                .where(inbound.c.conversation_id == conversation_id)
                .order_by(inbound.c.id.desc())
                .limit(limit)
            ).all()
        return [InboundMessage.from_json(row.body) for row in reversed(rows)]

    def counts(self) -> dict[str, int]:
        """Messages by status (health checks, tests, the benchmark)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.status, sa.func.count()).group_by(inbound.c.status)
            ).all()
        return {str(status): int(count) for status, count in rows}
