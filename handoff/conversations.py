"""What the desk reads of a conversation from the channels database.

Every message a customer sent (the inbox) and every message sent to them (the outbound
store, with who wrote it and its delivery status) is in the channels database
(`CHANNELS_DATABASE_URL`, connectors/storage.py), across every session of the conversation:
the desk's thread view and its live feed read it there, read-only. Profiles linked by phone
(connectors/customers.py) give the person behind the conversation on every channel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.customers import Customers
from connectors.media_store import FILES_PATH
from connectors.storage import inbound, make_engine, outbound
from connectors.windows import Window, closes_at, window_of

KINDS = {"image": "image", "audio": "audio", "video": "video"}


def media_kind(content_type: str) -> str:
    """How the desk shows a file: inline image, player, or download."""
    return KINDS.get((content_type or "").split("/")[0], "document")


def desk_media_url(url: str | None, name: str | None = None) -> str | None:
    """The desk's own link to a stored file (`/media/<name>`, login required)."""
    if name:
        return f"/media/{name}"
    if url and FILES_PATH in url:
        return "/media/" + url.split("?", 1)[0].rsplit("/", 1)[-1]  # a signed link's file
    return url


@dataclass(frozen=True)
class FeedItem:
    """A message that appeared or changed, for the desk's live updates."""

    conversation_id: str
    direction: str  # "in" | "out"
    at: float
    row_id: int


class ConversationReader:
    """Read-only access to the channels database."""

    def __init__(self, engine: Engine | None = None) -> None:
        """Uses `engine` (default: `CHANNELS_DATABASE_URL`)."""
        self.engine = engine or make_engine()
        self.customers = Customers(self.engine)

    def history(self, conversation_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Every message of the conversation, both directions, oldest first."""
        with self.engine.connect() as connection:
            received = connection.execute(
                sa.select(inbound.c.id, inbound.c.body, inbound.c.sent_at, inbound.c.status)
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
        messages = [_customer_message(row) for row in received]
        messages += [_sent_message(row) for row in sent]
        messages.sort(key=lambda message: (message["at"], message["direction"] == "out"))
        return messages[-limit:]

    def profile(self, conversation_id: str) -> dict[str, Any] | None:
        """The person behind the conversation, with every channel they use."""
        profile = self.customers.profile(conversation_id)
        if profile is None:
            return None
        return {
            "profile_id": profile.id,
            "name": profile.display_name,
            "phone": profile.phone,
            "identities": [
                {
                    "channel": identity.channel,
                    "conversation_id": identity.conversation_id,
                    "display_name": identity.display_name,
                    "last_inbound_at": identity.last_inbound_at,
                }
                for identity in profile.identities
            ],
        }

    def window(self, channel: str, conversation_id: str, now: float) -> dict[str, Any]:
        """Whether an agent's free text reaches the customer now, and until when."""
        kind = window_of(channel, conversation_id)
        last = self.customers.last_inbound_at(conversation_id)
        until = closes_at(kind, last, from_agent=True)
        return {
            "kind": kind.value,
            "open": kind is Window.NONE or (until is not None and now < until),
            "closes_at": until,
        }

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
        """Where the live feed starts: the last inbound id and the last outbound change."""
        with self.engine.connect() as connection:
            last_in = connection.execute(sa.select(sa.func.max(inbound.c.id))).scalar() or 0
            last_out = connection.execute(sa.select(sa.func.max(outbound.c.updated_at))).scalar()
        return int(last_in), float(last_out or 0.0)

    def changes(self, after_in: int, after_out: float) -> tuple[list[FeedItem], list[FeedItem]]:
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
            [FeedItem(r.conversation_id, "in", float(r.sent_at), int(r.id)) for r in new_in],
            [FeedItem(r.conversation_id, "out", float(r.updated_at), int(r.id)) for r in new_out],
        )


def _customer_message(row: Any) -> dict[str, Any]:
    body = json.loads(row.body)
    media = [
        {
            "url": desk_media_url(item.get("stored_url"), item.get("stored_name")),
            "content_type": item.get("content_type") or "",
            "filename": item.get("filename"),
            "kind": media_kind(item.get("content_type") or ""),
            "refused": item.get("refused"),
        }
        for item in body.get("media") or ()
    ]
    return {
        "id": f"in-{row.id}",
        "direction": "in",
        "source": "customer",
        "author": body.get("display_name"),
        "text": body.get("text") or "",
        "payload": body.get("payload"),
        "buttons": [],
        "media": media,
        "location": body.get("location"),
        "status": "received",
        "error": None,
        "at": float(row.sent_at),
    }


def _sent_message(row: Any) -> dict[str, Any]:
    body = json.loads(row.body)
    media = []
    for key, kind in (("image_url", "image"), ("document_url", "document")):
        if body.get(key):
            media.append(
                {
                    "url": desk_media_url(body[key]),
                    "content_type": "",
                    "filename": body.get("filename"),
                    "kind": kind,
                }
            )
    error = f"{row.error_code}: {row.error_message}" if row.error_code else None
    return {
        "id": f"out-{row.id}",
        "direction": "out",
        "source": row.source,
        "author": row.author,
        "text": body.get("text") or ("[template]" if body.get("template") else ""),
        "buttons": body.get("buttons") or [],
        "media": media,
        "location": None,
        "status": row.status,
        "error": error,
        "at": float(row.created_at),
    }
