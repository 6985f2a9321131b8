"""The one internal message type every channel adapter translates to and from.

Adapters turn a provider's webhook into `InboundMessage`s and `StatusUpdate`s; the core stores,
dedupes and processes those without knowing which provider sent them. Outbound, the core turns
a Rasa response into `OutboundPart`s that an adapter sends one by one.

Everything here is a frozen dataclass that survives a JSON round trip (`to_dict`/`from_dict`),
because inbound messages wait in the durable inbox as JSON until they are processed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What a customer sent."""

    TEXT = "text"
    MEDIA = "media"  # photo, document, audio, video, sticker (caption optional)
    LOCATION = "location"
    BUTTON = "button"  # a tap on a button the bot offered: `payload` says which
    CONTACT = "contact"  # a shared contact card (Telegram: the customer's own phone)
    UNSUPPORTED = "unsupported"  # something the channel could not deliver (polls, reactions…)


# What NLU receives for a message without words: Hilo's training data maps it to the
# `send_media` intent (data/nlu/media.yml); never `None` (rasa-3.6-notes.md §1.2).
MEDIA_PAYLOAD = "/send_media"


@dataclass(frozen=True)
class MediaRef:
    """A file the customer sent: where the provider keeps it and, once fetched, where we do.

    `provider_ref` is what the adapter needs to download it (a media id or a URL);
    `stored_url`/`stored_name` are set after the core saved it to the media store.
    """

    provider_ref: str
    content_type: str = ""
    filename: str | None = None
    size: int | None = None
    stored_name: str | None = None
    stored_url: str | None = None
    refused: str | None = None  # why it was not stored ("too_large", "type", "download_failed")


@dataclass(frozen=True)
class Location:
    """A shared location."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, whatever channel it came from.

    `conversation_id` is namespaced by channel ("whatsapp:+5215512345678", "telegram:1111");
    it is Rasa's sender id. `provider_id` is the provider's id for the delivery (wamid,
    MessageSid, update_id…): with `channel` it is the dedupe key of the inbox.
    """

    channel: str
    conversation_id: str
    provider_id: str
    kind: Kind
    sent_at: float  # provider timestamp (Unix seconds); orders a conversation's messages
    text: str = ""
    payload: str | None = None  # button taps: the payload the bot attached to the button
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    reply_to: str | None = None  # provider id of the message this one quotes
    display_name: str | None = None
    phone: str | None = None  # E.164, when the provider vouches for it
    edited: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # channel details for the desk

    def nlu_text(self) -> str:
        """What Rasa parses: the payload of a tap, the words, or the media payload.

        Never empty: a photo without caption, a location without address or a contact card
        becomes the media payload. Typed words that begin with "/" lose the slash: Rasa
        reads "/cancel_order{...}" as an intent with entities, so a customer could pick the
        bot's reading of their own message (only a tap's payload may do that).
        """
        if self.payload:
            return self.payload
        if self.text.strip():
            typed = self.text.strip()
            if typed.startswith("/"):
                return typed.lstrip("/ ").strip() or "?"
            return self.text
        if self.location is not None and self.location.address:
            return self.location.address
        return MEDIA_PAYLOAD

    def with_media(self, media: tuple[MediaRef, ...]) -> InboundMessage:
        """The same message with its media replaced (after downloading)."""
        return replace(self, media=media)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the inbox."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    def to_json(self) -> str:
        """Compact JSON for the inbox."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        """The inverse of `to_dict`."""
        values = dict(data)
        values["kind"] = Kind(values["kind"])
        values["media"] = tuple(MediaRef(**item) for item in values.get("media") or ())
        if values.get("location"):
            values["location"] = Location(**values["location"])
        return cls(**values)

    @classmethod
    def from_json(cls, body: str) -> InboundMessage:
        """The inverse of `to_json`."""
        return cls.from_dict(json.loads(body))


class DeliveryStatus(str, Enum):
    """Where an outbound message is; statuses only move forward (see `rank`)."""

    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        """Order of progress: callbacks arrive out of order and must not move backwards.

        `failed` is terminal: a late "sent" must not hide a failure.
        """
        return _RANK[self]


_RANK = {
    DeliveryStatus.SENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's news about a message we sent (status callback / status webhook)."""

    channel: str
    provider_id: str
    status: DeliveryStatus
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Button:
    """A choice offered to the customer: what it shows and what it answers."""

    title: str
    payload: str


@dataclass(frozen=True)
class OutboundPart:
    """One message to send: text (maybe with buttons), an image or a document.

    A Rasa response becomes one or more parts (long texts are split at the channel's limit).
    """

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image_url: str | None = None
    document_url: str | None = None
    filename: str | None = None
    template: bool = False  # the channel's re-engagement template instead of free text
    tag_human_agent: bool = False  # Messenger: HUMAN_AGENT tag (agent replies after 24 h)

    def describe(self) -> str:
        """Kind of part, for the outbound store and logs (never the text itself)."""
        if self.template:
            return "template"
        if self.image_url:
            return "image"
        if self.document_url:
            return "document"
        return "buttons" if self.buttons else "text"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the outbound store."""
        return asdict(self)
