"""The Messenger channel, which also carries Instagram direct messages (same webhook, same API).

One Meta app subscribes a Facebook Page (`"object": "page"`, senders are PSIDs) and, if linked,
its Instagram professional account (`"object": "instagram"`, senders are IGSIDs); both arrive
at `/webhooks/messenger/webhook` and both are answered through the Send API with the Page
access token. Conversations are `messenger:<PSID>` and `instagram:<IGSID>`.

Unlike Rasa's built-in connector, which stops after the first event of a delivery, every entry
and every messaging event is read: Meta batches them. Echoes of our own messages are dropped
(answering them would loop). Wire formats: `../shared/reference/channel-specs.md` §3 (and
§2.1/§2.3 for the handshake and the signature, shared with WhatsApp).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import meta
from connectors.adapter import Batch, ChannelSender, PerLoop, button_key, sender_ref
from connectors.core import ChannelHub
from connectors.errors import PayloadError, SendError
from connectors.media_hosts import META_MEDIA_DOMAINS, MediaHosts
from connectors.media_inbound import download
from connectors.messages import (
    DeliveryStatus,
    InboundMessage,
    Kind,
    Location,
    MediaRef,
    OutboundPart,
    StatusUpdate,
)
from connectors.registry import MessengerRules
from connectors.render import numbered
from connectors.settings import MediaLimits, MessengerSettings
from connectors.webhook import HiloInput, HiloOutput

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
# Webhook `object` → conversation id prefix. Instagram DMs come through the same app.
PREFIXES = {"page": "messenger", "instagram": "instagram"}
TEXT_LIMIT = 2000  # §3.4 [U]: widely cited, not confirmed
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
QUICK_REPLY_PAYLOAD = 1000
MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta's webhook payload ceiling (§2.2)

# What a media attachment type is, until the bytes say otherwise (the core sniffs them).
# Messenger voice clips are MP4 audio.
MEDIA_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mp4", "file": ""}
# Event keys that are not the event's type.
ENVELOPE_KEYS = {"sender", "recipient", "timestamp"}
_TYPE_NAME = re.compile(r"[^a-z0-9_]+")


def _type_name(value: object) -> str:
    """An event or attachment type as a short, log-safe name (it is logged)."""
    return _TYPE_NAME.sub("_", str(value).lower())[:40] or "unknown"


# --- parsing -------------------------------------------------------------------------------


@dataclass
class _Event:
    """One `messaging` event with what every kind of event needs from its envelope."""

    data: dict[str, Any]
    prefix: str
    account_id: str
    entry_time: Any
    batch: Batch = field(repr=False)

    @property
    def sender(self) -> str:
        sender = self.data.get("sender")
        value = sender.get("id") if isinstance(sender, dict) else None
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value):
            raise PayloadError("messaging event without sender.id")
        return str(value)

    @property
    def sent_at(self) -> float:
        """Unix seconds: Messenger timestamps are integer milliseconds (§3.1)."""
        for value in (self.data.get("timestamp"), self.entry_time):
            milliseconds = _number(value)
            if milliseconds is not None:
                return milliseconds / 1000
        raise PayloadError("messaging event without timestamp")

    def message(self, **values: Any) -> InboundMessage:
        extra = {"account_id": self.account_id} if self.account_id else {}
        return InboundMessage(
            channel=CHANNEL,
            conversation_id=f"{self.prefix}:{self.sender}",
            sent_at=self.sent_at,
            extra=extra,
            **values,
        )


def parse_body(body: bytes) -> Batch:
    """Every message and status of one webhook delivery, in the order Meta sent them.

    Raises `PayloadError` for anything that is not a Messenger/Instagram webhook.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadError("not JSON") from error
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    prefix = PREFIXES.get(str(data.get("object")))
    if prefix is None:
        raise PayloadError("object is not page or instagram")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("entry must be a list")
    batch = Batch()
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError("entry items must be objects")
        account_id = str(entry.get("id") or "")
        events = entry.get("messaging")
        if events is None:
            # Feed/comment `changes`, or `standby` events while another app owns the thread.
            carried = [key for key in ("changes", "standby") if key in entry]
            batch.ignored.extend(carried or ["entry"])
            continue
        if not isinstance(events, list):
            raise PayloadError("messaging must be a list")
        for item in events:
            if not isinstance(item, dict):
                raise PayloadError("messaging items must be objects")
            _parse_event(_Event(item, prefix, account_id, entry.get("time"), batch))
    return batch


def _parse_event(event: _Event) -> None:
    data, batch = event.data, event.batch
    if "message" in data:
        _parse_message(event)
    elif "postback" in data:
        _parse_postback(event)
    elif "delivery" in data:
        listed = _dict(data["delivery"]).get("mids")
        mids = [_text(mid) for mid in (listed if isinstance(listed, list) else ())]
        mids = [mid for mid in mids if mid]
        if not mids:
            batch.ignored.append("delivery")  # only a watermark: nothing to match (§3.2)
        for mid in mids:
            batch.statuses.append(StatusUpdate(CHANNEL, mid, DeliveryStatus.DELIVERED))
    elif "read" in data:
        mid = _text(_dict(data["read"]).get("mid"))
        if mid:
            # Instagram's messaging_seen names the message read.
            batch.statuses.append(StatusUpdate(CHANNEL, mid, DeliveryStatus.READ))
        else:
            # Messenger's read carries only a watermark ("everything before this time was
            # read"), no message ids; marking our messages by time would guess, so it waits
            # for a desk feature that wants it.
            batch.ignored.append("read")
    else:
        # reaction, optin, referral, account_linking, policy_enforcement, handover...
        kind = next((key for key in data if key not in ENVELOPE_KEYS), "unknown")
        batch.ignored.append(_type_name(kind))


def _parse_message(event: _Event) -> None:
    message = event.data["message"]
    if not isinstance(message, dict):
        raise PayloadError("message must be an object")
    if message.get("is_echo"):
        event.batch.ignored.append("echo")  # our own message coming back: never process
        return
    if message.get("is_deleted"):
        event.batch.ignored.append("message_deleted")
        return
    mid = _text(message.get("mid"))
    if not mid:
        raise PayloadError("message without mid")
    text = _text(message.get("text"))
    common: dict[str, Any] = {
        "provider_id": mid,
        "text": text,
        "reply_to": _text(_dict(message.get("reply_to")).get("mid")) or None,
    }
    payload = _text(_dict(message.get("quick_reply")).get("payload"))
    if payload:
        event.batch.messages.append(event.message(kind=Kind.BUTTON, payload=payload, **common))
        return
    media, location = _attachments(message.get("attachments"), event.batch)
    if media:
        event.batch.messages.append(event.message(kind=Kind.MEDIA, media=media, **common))
    elif location is not None:
        event.batch.messages.append(event.message(kind=Kind.LOCATION, location=location, **common))
    elif text.strip():
        event.batch.messages.append(event.message(kind=Kind.TEXT, **common))
    elif not message.get("attachments"):
        event.batch.ignored.append("empty_message")


def _attachments(attachments: object, batch: Batch) -> tuple[tuple[MediaRef, ...], Location | None]:
    """The files and the location among a message's attachments; the rest is ignored."""
    if attachments is None:
        return (), None
    if not isinstance(attachments, list):
        raise PayloadError("attachments must be a list")
    media: list[MediaRef] = []
    location: Location | None = None
    for attachment in attachments:
        if not isinstance(attachment, dict):
            raise PayloadError("attachments must be objects")
        kind = _text(attachment.get("type"))
        payload = _dict(attachment.get("payload"))
        url = _text(payload.get("url"))
        coordinates = payload.get("coordinates")
        if kind in MEDIA_TYPES and url:
            media.append(_media_ref(kind, url))
        elif isinstance(coordinates, dict) and location is None:
            location = _location(coordinates, attachment.get("title"))
            if location is None:
                batch.ignored.append("fallback")
        elif kind in ("location", "fallback"):
            batch.ignored.append("fallback")  # a shared link or an old location without data
        else:
            batch.ignored.append(_type_name(kind or "attachment"))  # reels, shares, stories...
    return tuple(media), location


def _media_ref(kind: str, url: str) -> MediaRef:
    filename = PurePosixPath(urlsplit(url).path).name or None
    content_type = MEDIA_TYPES[kind]
    if not content_type:
        guessed = mimetypes.guess_type(filename or "")[0]
        content_type = guessed or "application/octet-stream"
    return MediaRef(
        provider_ref=url, content_type=content_type, filename=filename if kind == "file" else None
    )


def _location(coordinates: dict[str, Any], title: object) -> Location | None:
    latitude, longitude = _number(coordinates.get("lat")), _number(coordinates.get("long"))
    if latitude is None or longitude is None:
        return None
    return Location(latitude=latitude, longitude=longitude, name=_text(title) or None)


def _text(value: object) -> str:
    """A string field, or "" when absent or of another type."""
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    """An object field, or {} when absent or of another type."""
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _parse_postback(event: _Event) -> None:
    postback = event.data["postback"]
    if not isinstance(postback, dict):
        raise PayloadError("postback must be an object")
    title, payload = _text(postback.get("title")), _text(postback.get("payload"))
    if not (payload or title):
        event.batch.ignored.append("postback_empty")
        return
    mid = _text(postback.get("mid"))
    if not mid:
        # Postbacks carry a mid since Graph v11 (§3.3); older ones get a key that a redelivery
        # of the same tap reproduces.
        key = f"{event.sender}|{event.data.get('timestamp')}|{payload or title}"
        mid = "postback-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    event.batch.messages.append(
        event.message(provider_id=mid, kind=Kind.BUTTON, text=title, payload=payload or title)
    )


# --- sending ---------------------------------------------------------------------------------


def recipient_of(conversation_id: str) -> str:
    """The PSID or IGSID a conversation id names; `SendError` for another channel's ids."""
    prefix, _, recipient = conversation_id.partition(":")
    if prefix not in PREFIXES.values() or not recipient:
        raise SendError("recipient", "not a Messenger or Instagram conversation")
    return recipient


def uses_numbered_list(part: OutboundPart) -> bool:
    """More buttons than quick replies hold, or buttons without words, go as a numbered list.

    Quick replies need a text to hang from; an empty text becomes the numbered choices, and
    the quick replies still come along.
    """
    return bool(part.buttons) and (len(part.buttons) > MAX_QUICK_REPLIES or not part.text)


def render_message(recipient: str, part: OutboundPart) -> dict[str, Any]:
    """The Send API body for one part (§3.4)."""
    message: dict[str, Any]
    if part.image_url:
        message = _attachment("image", part.image_url)
    elif part.document_url:
        message = _attachment("file", part.document_url)
    elif part.buttons and len(part.buttons) <= MAX_QUICK_REPLIES:
        text = part.text or numbered("", part.buttons)
        message = {"text": text, "quick_replies": _quick_replies(part)}
    elif part.buttons:
        message = {"text": numbered(part.text, part.buttons)}
    else:
        message = {"text": part.text}
    body: dict[str, Any] = {"recipient": {"id": recipient}}
    if part.tag_human_agent:
        # An agent's reply 24 h–7 d after the customer's last message (§3.5).
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    body["message"] = message
    return body


def _attachment(kind: str, url: str) -> dict[str, Any]:
    return {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": True}}}


def _quick_replies(part: OutboundPart) -> list[dict[str, str]]:
    replies = []
    for index, button in enumerate(part.buttons, start=1):
        title = button.title
        if len(title) > QUICK_REPLY_TITLE:
            title = title[: QUICK_REPLY_TITLE - 1] + "…"
        payload = button.payload or button.title
        if len(payload) > QUICK_REPLY_PAYLOAD:
            payload = button_key(index)  # the core maps "#n" back to the n-th button
        replies.append({"content_type": "text", "title": title, "payload": payload})
    return replies


class MessengerSender(MessengerRules, ChannelSender):
    """Sends through the Send API (`/me/messages`, Page token in the query) and fetches files."""

    text_limit = TEXT_LIMIT
    settings: MessengerSettings

    def __init__(self, settings: MessengerSettings, *, max_bytes: int | None = None) -> None:
        """`max_bytes`: stop downloading a customer's file past this size."""
        self.settings = settings
        self.max_bytes = max_bytes if max_bytes is not None else MediaLimits.from_env().max_bytes
        self.url = f"{settings.api_base_url}/{settings.api_version}/me/messages"
        self._clients = PerLoop(meta.new_client)

    def numbered_buttons(self, part: OutboundPart) -> bool:
        """See `uses_numbered_list`."""
        return uses_numbered_list(part)

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """One Send API call; the `message_id` Meta assigned (delivery events name it)."""
        if part.template:
            raise SendError("template", "Messenger has no re-engagement template")
        body = render_message(recipient_of(conversation_id), part)
        reply = await meta.graph_post(
            self._clients.get(),
            self.url,
            body,
            token=self.settings.page_access_token,
            token_in_query=True,
        )
        message_id = reply.get("message_id")
        logger.info(
            "connectors.messenger.sent sender=%s kind=%s",
            sender_ref(conversation_id),
            part.describe(),
        )
        return str(message_id) if message_id else None

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """Downloads an attachment from Meta's CDN (the URL itself is the credential)."""
        hosts = MediaHosts(META_MEDIA_DOMAINS, (self.settings.api_base_url,))
        return await download(
            self._clients.get(), media.provider_ref, hosts=hosts, max_bytes=self.max_bytes
        )


class MessengerOutput(HiloOutput):
    """Responses to Messenger and Instagram conversations."""

    channel = CHANNEL


class MessengerInput(HiloInput):
    """The Messenger/Instagram webhook: Meta's handshake, signed deliveries."""

    channel = CHANNEL
    output_class = MessengerOutput

    def __init__(
        self, settings: MessengerSettings | None = None, hub: ChannelHub | None = None
    ) -> None:
        """Settings from `MESSENGER_*` unless given; downloads stop at the hub's media limit."""
        self.settings = settings or MessengerSettings.from_env()
        max_bytes = hub.media_limits.max_bytes if hub is not None else None
        super().__init__(
            MessengerSender(self.settings, max_bytes=max_bytes),
            configured=self.settings.configured,
            missing=self.settings.missing(),
            hub=hub,
            max_body_bytes=MAX_BODY_BYTES,
        )

    def verify(self, request: Request) -> None:
        """`X-Hub-Signature-256` over the raw body with the App Secret (§2.3)."""
        meta.verify_signature(
            self.settings.app_secret,
            request.body or b"",
            request.headers.get("x-hub-signature-256"),
        )

    def parse(self, request: Request) -> Batch:
        """Every entry and every messaging event (see `parse_body`)."""
        return parse_body(request.body or b"")

    def extra_routes(self, blueprint: Blueprint) -> None:
        """`GET /webhook`: Meta's subscription handshake (§2.1), next to the core's POST."""

        @blueprint.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            if not self.configured:
                return self.not_configured()
            answer = meta.handshake(request, self.settings.verify_token)
            logger.info("connectors.messenger.handshake status=%d", answer.status)
            return answer
