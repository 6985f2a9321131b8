"""What the desk reads of a conversation from the channels database.

Every message a customer sent (the inbox) and every message sent to them (the outbound
store, with who wrote it and its delivery status) is in the channels database
(`CHANNELS_DATABASE_URL`), across every session of the conversation: the desk's thread view
and its live feed read it through the channels' query API (connectors/history.py), never
their tables. Profiles linked by phone
(connectors/customers.py) give the person behind the conversation on every channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from connectors.customers import Customers
from connectors.history import Change, History, Received, Sent
from connectors.media_store import FILES_PATH
from connectors.notifications import ChangeListener
from connectors.registry import window_rules
from connectors.storage import make_engine

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


FeedItem = Change  # a message that appeared or changed, for the desk's live updates


class ConversationReader:
    """Read-only access to the channels database."""

    def __init__(self, engine: Engine | None = None) -> None:
        """Uses `engine` (default: `CHANNELS_DATABASE_URL`)."""
        self.engine = engine or make_engine()
        self.customers = Customers(self.engine)
        self.store = History(self.engine)

    def history(self, conversation_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Every message of the conversation, both directions, oldest first."""
        received, sent = self.store.messages(conversation_id, limit)
        messages = [_customer_message(record) for record in received]
        messages += [_sent_message(record) for record in sent]
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
        """Whether an agent's free text reaches the customer now, until when, and the template.

        The channel's adapter states the rules (connectors/registry.py), so the desk shows what
        the hub will do; `template`: whether the re-engagement template can go when the text
        cannot. `UnknownChannel` for a channel Hilo does not have.
        """
        rules = window_rules(channel, conversation_id)
        last = self.customers.last_inbound_at(conversation_id)
        return {
            "kind": rules.window.value,
            "open": rules.is_open(last, now, from_agent=True),
            "closes_at": rules.closes_at(last, from_agent=True),
            "template": rules.template_configured,
        }

    def search(self, text: str, limit: int = 50) -> list[str]:
        """Conversations with a customer message containing `text` (latest first)."""
        return self.store.search(text, limit)

    def listen(self, wake: Callable[[], None]) -> ChangeListener | None:
        """Calls `wake()` when a message is stored or changes, on PostgreSQL; None elsewhere."""
        if not ChangeListener.available(self.engine):
            return None
        listener = ChangeListener(self.engine, wake)
        listener.start()
        return listener

    def latest_cursor(self) -> tuple[int, float]:
        """Where the live feed starts: the last inbound id and the last outbound change."""
        return self.store.latest_cursor()

    def changes(self, after_in: int, after_out: float) -> tuple[list[FeedItem], list[FeedItem]]:
        """Customer messages stored after inbound id `after_in`; outbound changed after."""
        return self.store.changes(after_in, after_out)


def _customer_message(row: Received) -> dict[str, Any]:
    body = row.body
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


def _sent_message(row: Sent) -> dict[str, Any]:
    body = row.body
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
