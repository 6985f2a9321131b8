"""What others may read of the channels' messages: a small query API over the inbox and outbox.

The channels own their tables (connectors/storage.py, migrated by connectors/migrations/).
The desk needs a conversation's messages in both directions, a search over what customers
wrote, and a cursor to follow new messages; it gets them here, as records, and never
queries the tables itself, so the schema can change behind this module.

On PostgreSQL, `ChangeListener` (connectors/notifications.py) wakes a reader the moment any
replica stores or updates a message, so a desk does not have to poll fast to see messages at
once; polling stays as the fallback and is all there is on SQLite (one machine, one file).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.storage import inbound, outbound

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
