"""The outbound store: every message sent on a channel, its provider id and its status.

A part is recorded (`sending`) before the provider is called, then marked `sent` with the
provider's id or `failed` with the provider's error; status callbacks move it to `delivered`
or `read` and never backwards (they arrive out of order). The n-th reply to an inbound
message is keyed by (inbox id, n): when a message is processed again after a crash, replies
that already went out are not sent twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.messages import DeliveryStatus, OutboundPart, StatusUpdate
from connectors.storage import Database, announce_change, as_database, outbound

ALREADY_SENT = {DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ}


@dataclass(frozen=True)
class OutboundRecord:
    """A row of the outbound store."""

    id: int
    channel: str
    conversation_id: str
    source: str
    kind: str
    body: dict[str, Any]
    provider_id: str | None
    status: DeliveryStatus
    error_code: str | None
    error_message: str | None
    created_at: float
    author: str | None = None

    @property
    def text(self) -> str:
        """The text that was sent (or refused)."""
        return str(self.body.get("text") or "")


class Outbox:
    """Records outbound parts and their delivery status."""

    def __init__(self, database: Database | Engine) -> None:
        """Uses the channels database (tables created by `connectors.storage.make_engine`)."""
        self.database = as_database(database)
        self.engine = self.database.engine

    def begin(
        self,
        *,
        channel: str,
        conversation_id: str,
        part: OutboundPart,
        source: str,
        reply_to: int | None = None,
        seq: int | None = None,
        author: str | None = None,
    ) -> OutboundRecord | None:
        """Records a part about to be sent; None when this reply already went out.

        A reply interrupted mid-send by a crash (still `sending`) is handed back to be sent
        again: a customer may, rarely, get it twice, but never not at all.
        """
        now = time.time()
        values = {
            "channel": channel,
            "conversation_id": conversation_id,
            "reply_to": reply_to,
            "seq": seq,
            "source": source,
            "author": author,
            "kind": part.describe(),
            "body": json.dumps(part.to_dict(), ensure_ascii=False),
            "status": DeliveryStatus.SENDING.value,
            "created_at": now,
            "updated_at": now,
        }

        def insert(connection: Connection) -> int | None:
            announce_change(connection)
            if reply_to is None:  # not a reply to a customer message: never deduplicated
                statement = outbound.insert().values(**values)
                return int(connection.execute(statement).inserted_primary_key[0])
            return self.database.insert_ignoring_conflict(
                connection, outbound, values, ["reply_to", "seq"]
            )

        row_id = self.database.write(insert)
        if row_id is None:
            existing = self._find_reply(reply_to, seq)
            if existing is None or existing.status in ALREADY_SENT:
                return None
            return existing
        return self.get(row_id)

    def _find_reply(self, reply_to: int | None, seq: int | None) -> OutboundRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(outbound)
                .where(outbound.c.reply_to == reply_to)
                .where(outbound.c.seq == seq)
            ).first()
        return _record(row) if row else None

    def get(self, record_id: int) -> OutboundRecord:
        """One record by id."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(outbound).where(outbound.c.id == record_id)).one()
        return _record(row)

    def sent(self, record_id: int, provider_id: str | None) -> None:
        """The provider accepted the part."""
        self._update(record_id, status=DeliveryStatus.SENT.value, provider_id=provider_id)

    def failed(self, record_id: int, code: str, message: str) -> None:
        """The provider refused the part, or it could not be sent (window closed…)."""
        self._update(
            record_id,
            status=DeliveryStatus.FAILED.value,
            error_code=code[:64],
            error_message=message[:500],
        )

    def _update(self, record_id: int, **values: Any) -> None:
        statement = (
            outbound.update()
            .where(outbound.c.id == record_id)
            .values(updated_at=time.time(), **values)
        )

        def update(connection: Connection) -> None:
            connection.execute(statement)
            announce_change(connection)

        self.database.write(update)

    def apply_status(self, update: StatusUpdate) -> bool:
        """Moves a sent message's status forward; False if unknown or not a step forward."""

        def apply(connection: Connection) -> bool:
            moved = _apply(connection, update)
            if moved:
                announce_change(connection)
            return moved

        return self.database.write(apply)

    def template_sent_since(self, conversation_id: str, since: float) -> bool:
        """Whether a re-engagement template went out after `since` (send it once per gap)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                sa.select(outbound.c.id)
                .where(outbound.c.conversation_id == conversation_id)
                .where(outbound.c.kind == "template")
                .where(outbound.c.status != DeliveryStatus.FAILED.value)
                .where(outbound.c.created_at >= since)
                .limit(1)
            ).first()
        return found is not None

    def conversation(self, conversation_id: str, after_id: int = 0) -> list[OutboundRecord]:
        """A conversation's outbound messages after `after_id`, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(outbound)
                .where(outbound.c.conversation_id == conversation_id)
                .where(outbound.c.id > after_id)
                .order_by(outbound.c.id)
            ).all()
        return [_record(row) for row in rows]

    def failures(self, since: float = 0.0, limit: int = 100) -> list[OutboundRecord]:
        """Parts that could not be delivered, newest first (operators and the desk read these)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(outbound)
                .where(outbound.c.status == DeliveryStatus.FAILED.value)
                .where(outbound.c.updated_at >= since)
                .order_by(outbound.c.id.desc())
                .limit(limit)
            ).all()
        return [_record(row) for row in rows]


def _record(row: Any) -> OutboundRecord:
    return OutboundRecord(
        id=int(row.id),
        channel=row.channel,
        conversation_id=row.conversation_id,
        source=row.source,
        kind=row.kind,
        body=json.loads(row.body),
        provider_id=row.provider_id,
        status=DeliveryStatus(row.status),
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=float(row.created_at),
        author=row.author,
    )


def _apply(connection: Connection, update: StatusUpdate) -> bool:
    row = connection.execute(
        sa.select(outbound.c.id, outbound.c.status)
        .where(outbound.c.channel == update.channel)
        .where(outbound.c.provider_id == update.provider_id)
    ).first()
    if row is None or update.status.rank <= DeliveryStatus(row.status).rank:
        return False
    values: dict[str, Any] = {"status": update.status.value, "updated_at": time.time()}
    if update.status is DeliveryStatus.FAILED:
        values["error_code"] = (update.error_code or "unknown")[:64]
        values["error_message"] = (update.error_message or "")[:500]
    moved = connection.execute(
        outbound.update()
        .where(outbound.c.id == row.id)
        .where(outbound.c.status == row.status)
        .values(**values)
    ).rowcount
    return bool(moved)
