"""What others may read of the channels' messages: a small query API over the inbox and outbox.

The channels own their tables (connectors/storage.py, migrated by connectors/migrations/).
The desk needs a conversation's messages in both directions, a search over what customers
wrote, and a cursor to follow new messages; it gets them here, as records, and never
queries the tables itself, so the schema can change behind this module.

On PostgreSQL, `ChangeListener` wakes a reader the moment any replica stores or updates a
message (LISTEN on the channel that connectors/storage.py `announce_change` NOTIFYs), so a
desk does not have to poll fast to see messages at once; polling stays as the fallback and
is all there is on SQLite (one machine, one file).
"""

from __future__ import annotations

import json
import logging
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.storage import CHANGES_CHANNEL, inbound, outbound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """A customer's message as stored (body: connectors.messages.InboundMessage as JSON)."""

    id: int
    conversation_id: str
    sent_at: float
    status: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """A message sent (or refused) on a channel, with its latest delivery status."""

    id: int
    conversation_id: str
    source: str
    author: str | None
    status: str
    error_code: str | None
    error_message: str | None
    created_at: float
    updated_at: float
    body: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """A message that appeared (in) or changed (out), for live updates."""

    conversation_id: str
    direction: str  # "in" | "out"
    at: float
    row_id: int


class History:
    """Read-only queries on the channels database."""

    def __init__(self, engine: Engine) -> None:
        """Reads through `engine` (connectors.storage.make_engine)."""
        self.engine = engine

    def messages(
        self, conversation_id: str, limit: int = 1000
    ) -> tuple[list[Received], list[Sent]]:
        """The conversation's latest `limit` messages each way, newest first."""
        with self.engine.connect() as connection:
            received = connection.execute(
                sa.select(
                    inbound.c.id,
                    inbound.c.conversation_id,
                    inbound.c.body,
                    inbound.c.sent_at,
                    inbound.c.status,
                )
                .where(inbound.c.conversation_id == conversation_id)
                .order_by(inbound.c.id.desc())
                .limit(limit)
            ).all()
            sent = connection.execute(
                sa.select(outbound)
                .where(outbound.c.conversation_id == conversation_id)
                .order_by(outbound.c.id.desc())
                .limit(limit)
            ).all()
        return (
            [
                Received(
                    int(row.id),
                    row.conversation_id,
                    float(row.sent_at),
                    row.status,
                    json.loads(row.body),
                )
                for row in received
            ],
            [
                Sent(
                    id=int(row.id),
                    conversation_id=row.conversation_id,
                    source=row.source,
                    author=row.author,
                    status=row.status,
                    error_code=row.error_code,
                    error_message=row.error_message,
                    created_at=float(row.created_at),
                    updated_at=float(row.updated_at),
                    body=json.loads(row.body),
                )
                for row in sent
            ],
        )

    def search(self, text: str, limit: int = 50) -> list[str]:
        """Conversations with a customer message containing `text` (latest first)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.conversation_id, inbound.c.body)
                .where(inbound.c.body.ilike(pattern, escape="\\"))
                .order_by(inbound.c.id.desc())
                .limit(limit * 20)
            ).all()
        # The body is the message as JSON: keep matches in what the customer wrote.
        wanted = text.casefold()
        found: list[str] = []
        for row in rows:
            words = str(json.loads(row.body).get("text") or "").casefold()
            if wanted in words and row.conversation_id not in found:
                found.append(row.conversation_id)
        return found[:limit]

    def latest_cursor(self) -> tuple[int, float]:
        """Where live updates start: the last inbound id and the last outbound change."""
        with self.engine.connect() as connection:
            last_in = connection.execute(sa.select(sa.func.max(inbound.c.id))).scalar() or 0
            last_out = connection.execute(sa.select(sa.func.max(outbound.c.updated_at))).scalar()
        return int(last_in), float(last_out or 0.0)

    def changes(self, after_in: int, after_out: float) -> tuple[list[Change], list[Change]]:
        """Customer messages stored after inbound id `after_in`; outbound changed after."""
        with self.engine.connect() as connection:
            new_in = connection.execute(
                sa.select(inbound.c.id, inbound.c.conversation_id, inbound.c.sent_at)
                .where(inbound.c.id > after_in)
                .order_by(inbound.c.id)
                .limit(1000)
            ).all()
            new_out = connection.execute(
                sa.select(outbound.c.id, outbound.c.conversation_id, outbound.c.updated_at)
                .where(outbound.c.updated_at > after_out)
                .order_by(outbound.c.updated_at)
                .limit(1000)
            ).all()
        return (
            [Change(r.conversation_id, "in", float(r.sent_at), int(r.id)) for r in new_in],
            [Change(r.conversation_id, "out", float(r.updated_at), int(r.id)) for r in new_out],
        )


class ChangeListener:
    """Calls `wake()` from its own thread whenever a message is stored or changes (PostgreSQL).

    The connection is a plain psycopg2 one outside the pool, in autocommit, LISTENing; if it
    drops (the database restarts), the thread connects again every second. Notifications
    missed meanwhile cost nothing: the reader's poll catches up.
    """

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        """Listens on `engine`'s database (PostgreSQL only); call `start()`."""
        self.engine = engine
        self.wake = wake
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hilo-listen", daemon=True)

    @staticmethod
    def available(engine: Engine) -> bool:
        """Whether the database can notify (PostgreSQL)."""
        return engine.dialect.name == "postgresql"

    def start(self) -> None:
        """Starts listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops within a second."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._listen()
            except Exception as error:  # the database is away: try again in a second
                logger.warning("connectors.listen.failed error=%s", type(error).__name__)
            self._stopped.wait(1.0)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        try:
            connection: Any = raw.dbapi_connection
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANGES_CHANNEL}")
            self.wake()  # anything stored while no one listened is looked at now
            while not self._stopped.is_set():
                if select.select([connection], [], [], 1.0)[0]:
                    connection.poll()
                    if connection.notifies:
                        connection.notifies.clear()
                        self.wake()
        finally:
            raw.invalidate()  # never back to the pool in LISTEN/autocommit state
