"""The WhatsApp Cloud API channel (Meta): webhook in, Graph API `/{phone-number-id}/messages` out.

Routes under /webhooks/whatsapp/:
- `GET /webhook`: Meta's subscription handshake (`hub.verify_token` = `WHATSAPP_VERIFY_TOKEN`).
- `POST /webhook`: event notifications, signed with the app secret (`X-Hub-Signature-256`);
  one delivery may batch several entries, changes, messages and statuses.

Conversation ids are `whatsapp:+<wa_id>`; the provider id of a message is its wamid. Outbound,
texts go as `text`, 1-3 buttons as reply buttons, 4-10 as a list, more as a numbered text; a
closed 24 h window sends the configured template instead (the core decides, by the rules the
sender inherits: connectors/registry.py `WhatsAppRules`). See
`../shared/reference/channel-specs.md` §2 (handshake §2.1, signature §2.3, send API §2.5).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import meta
from connectors.adapter import Batch, ChannelSender, PerLoop, button_key, sender_ref
from connectors.core import ChannelHub
from connectors.errors import MediaError, PayloadError, SendError
from connectors.media_hosts import META_MEDIA_DOMAINS, MediaHosts
from connectors.media_inbound import download
from connectors.messages import (
    Button,
    DeliveryStatus,
    InboundMessage,
    Kind,
    Location,
    MediaRef,
    OutboundPart,
    StatusUpdate,
)
from connectors.registry import WhatsAppRules
from connectors.render import numbered
from connectors.settings import MediaLimits, WhatsAppSettings
from connectors.webhook import HiloInput, HiloOutput

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
OBJECT = "whatsapp_business_account"
MAX_BODY_BYTES = 4 * 1024 * 1024  # Meta's payloads go up to 3 MB (§2.2)

TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # interactive body and media captions
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
ROW_TITLE_LIMIT = 24
ROW_ID_LIMIT = 200
ROW_DESCRIPTION_LIMIT = 72
LIST_BUTTON_LABEL = "Opciones"

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
# Provider-chosen names (types, fields) are logged; anything else than a plain word is not.
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

JsonObject = dict[str, Any]


def _name(value: object) -> str:
    """A provider-chosen type name that is safe to log."""
    return value if isinstance(value, str) and _SAFE_NAME.match(value) else "other"


def _shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, marking a cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- outbound -------------------------------------------------------------------------------


def recipient(conversation_id: str) -> str:
    """The Graph `to` of a conversation: `whatsapp:+16505551234` → `16505551234`."""
    return conversation_id.removeprefix(f"{CHANNEL}:").removeprefix("+")


def _envelope(to: str, kind: str, content: JsonObject) -> JsonObject:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def _text(to: str, text: str) -> JsonObject:
    return _envelope(to, "text", {"preview_url": False, "body": text})


def _ids(buttons: tuple[Button, ...], limit: int) -> list[str]:
    """Button ids: the payload, or `#n` when it is too long or repeats (the core maps back)."""
    ids: list[str] = []
    for index, button in enumerate(buttons, start=1):
        fits = 0 < len(button.payload) <= limit and button.payload not in ids
        ids.append(button.payload if fits else button_key(index))
    return ids


def _reply_buttons(to: str, body: str, buttons: tuple[Button, ...]) -> JsonObject:
    ids = _ids(buttons, BUTTON_ID_LIMIT)
    return _envelope(
        to,
        "interactive",
        {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {
                        "type": "reply",
                        "reply": {"id": key, "title": _shorten(button.title, BUTTON_TITLE_LIMIT)},
                    }
                    for key, button in zip(ids, buttons, strict=True)
                ]
            },
        },
    )


def _list(to: str, body: str, buttons: tuple[Button, ...]) -> JsonObject:
    rows: list[JsonObject] = []
    for key, button in zip(_ids(buttons, ROW_ID_LIMIT), buttons, strict=True):
        row: JsonObject = {"id": key, "title": _shorten(button.title, ROW_TITLE_LIMIT)}
        if len(button.title.strip()) > ROW_TITLE_LIMIT:  # the whole title still shows
            row["description"] = _shorten(button.title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return _envelope(
        to,
        "interactive",
        {
            "type": "list",
            "body": {"text": body},
            "action": {"button": LIST_BUTTON_LABEL, "sections": [{"rows": rows}]},
        },
    )


def _document_filename(part: OutboundPart) -> str | None:
    """The name the customer sees: the part's, else the URL's last path segment."""
    if part.filename:
        return part.filename
    name = unquote(urlsplit(part.document_url or "").path.rsplit("/", 1)[-1])
    return name or None


def render(to: str, part: OutboundPart, settings: WhatsAppSettings) -> JsonObject:
    """The Graph request body for one part.

    Text with buttons arrives within the interactive body limit (`buttons_text_limit`: the
    core sends longer texts ahead as plain messages); image and document parts carry no text
    from Rasa's responses, so a caption is only cut as a safeguard.
    """
    if part.template:
        if not settings.template_name:
            raise SendError("template_not_configured", "WHATSAPP_TEMPLATE_NAME is not set")
        template = {
            "name": settings.template_name,
            "language": {"code": settings.template_language},
        }
        return _envelope(to, "template", template)
    if part.image_url or part.document_url:
        if part.image_url:
            media: JsonObject = {"link": part.image_url}
            kind = "image"
        else:
            media = {"link": part.document_url}
            filename = _document_filename(part)
            if filename:
                media["filename"] = filename
            kind = "document"
        if part.text.strip():
            media["caption"] = _shorten(part.text.strip(), BODY_LIMIT)
        return _envelope(to, kind, media)
    if len(part.buttons) > MAX_LIST_ROWS:
        return _text(to, numbered(part.text, part.buttons))
    if part.buttons:
        body = part.text.strip() or "…"  # Meta requires a body; bare buttons get a neutral one
        if len(part.buttons) <= MAX_REPLY_BUTTONS:
            return _reply_buttons(to, body, part.buttons)
        return _list(to, body, part.buttons)
    return _text(to, part.text)


def _message_id(data: JsonObject) -> str | None:
    """`messages[0].id` of a Graph send reply."""
    messages = data.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        value = messages[0].get("id")
        return str(value) if value else None
    return None


class WhatsAppSender(WhatsAppRules, ChannelSender):
    """Sends parts through the Graph API and fetches customers' files."""

    text_limit = TEXT_LIMIT
    buttons_text_limit = BODY_LIMIT
    settings: WhatsAppSettings

    def __init__(self, settings: WhatsAppSettings, max_bytes: int | None = None) -> None:
        """`max_bytes`: the largest customer file fetched (default `HILO_MEDIA_MAX_BYTES`)."""
        self.settings = settings
        self.max_bytes = max_bytes if max_bytes is not None else MediaLimits.from_env().max_bytes
        self._clients: PerLoop[httpx.AsyncClient] = PerLoop(meta.new_client)

    @property
    def _graph(self) -> str:
        return f"{self.settings.api_base_url.rstrip('/')}/{self.settings.api_version}"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token}"}

    def numbered_buttons(self, part: OutboundPart) -> bool:
        """More than 10 choices do not fit a list message: they go as a numbered text."""
        return len(part.buttons) > MAX_LIST_ROWS

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """POSTs the part's message; the provider's message id (wamid)."""
        body = render(recipient(conversation_id), part, self.settings)
        url = f"{self._graph}/{self.settings.phone_number_id}/messages"
        reply = await meta.graph_post(
            self._clients.get(), url, body, token=self.settings.access_token
        )
        logger.info(
            "connectors.whatsapp.sent sender=%s kind=%s",
            sender_ref(conversation_id),
            part.describe(),
        )
        return _message_id(reply)

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """Asks the Graph API for the media's URL, then downloads it, both with the token."""
        client = self._clients.get()
        try:
            reply = await client.get(f"{self._graph}/{media.provider_ref}", headers=self._auth)
        except httpx.HTTPError as error:
            raise MediaError("download", type(error).__name__) from error
        try:
            info = meta.graph_result(reply)
        except SendError as error:
            raise MediaError("download", f"graph {error.code}") from error
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise MediaError("download", "no url for the media id")
        size = info.get("file_size")
        if isinstance(size, (int, str)) and str(size).isdigit() and int(size) > self.max_bytes:
            raise MediaError("too_large")
        hosts = MediaHosts(META_MEDIA_DOMAINS, (self.settings.api_base_url,))
        data, declared = await download(
            client, url, hosts=hosts, headers=self._auth, max_bytes=self.max_bytes
        )
        return data, declared or str(info.get("mime_type") or media.content_type)


class WhatsAppOutput(HiloOutput):
    """Responses to WhatsApp conversations."""

    channel = CHANNEL


# --- inbound --------------------------------------------------------------------------------


def _object(value: object, what: str) -> JsonObject:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object")
    return value


def _objects(value: object, what: str) -> list[JsonObject]:
    """A list of objects; a missing list is empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} must be a list")
    return [_object(item, what) for item in value]


def _string(data: JsonObject, key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what}.{key} must be a non-empty string")
    return value


def _optional(data: JsonObject, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _timestamp(data: JsonObject, what: str) -> int:
    value = data.get("timestamp")
    if isinstance(value, (str, int)) and str(value).isdigit():
        return int(value)
    raise PayloadError(f"{what}.timestamp must be Unix seconds")


def parse_payload(data: object) -> Batch:
    """A Meta event notification as messages, statuses and ignored event types."""
    envelope = _object(data, "body")
    kind = envelope.get("object")
    if not isinstance(kind, str):
        raise PayloadError("object is missing")
    batch = Batch()
    if kind != OBJECT:
        # Signed by Meta but for another product subscribed to this URL: well-formed, just not
        # ours. A 400 would make Meta redeliver it for days and could disable the webhook.
        batch.ignored.append(f"object:{_name(kind)}")
        return batch
    for entry in _objects(envelope.get("entry"), "entry"):
        for change in _objects(entry.get("changes"), "entry.changes"):
            field = change.get("field")
            if field != "messages":
                batch.ignored.append(f"field:{_name(field)}")
                continue
            _parse_value(_object(change.get("value"), "changes.value"), batch)
    return batch


def _parse_value(value: JsonObject, batch: Batch) -> None:
    contacts = _objects(value.get("contacts"), "contacts")
    for message in _objects(value.get("messages"), "messages"):
        parsed = _parse_message(message, contacts, batch)
        if parsed is not None:
            batch.messages.append(parsed)
    for status in _objects(value.get("statuses"), "statuses"):
        update = _parse_status(status)
        if update is None:
            batch.ignored.append(f"status:{_name(status.get('status'))}")
        else:
            batch.statuses.append(update)
    for error in _objects(value.get("errors"), "errors"):
        batch.ignored.append(f"error:{_name(str(error.get('code', '')))}")


def _display_name(contacts: list[JsonObject], wa_id: str) -> str | None:
    """The sender's profile name, matched by wa_id (or the only contact, if it has none)."""
    matching = [c for c in contacts if c.get("wa_id") == wa_id]
    if not matching and len(contacts) == 1 and not contacts[0].get("wa_id"):
        matching = contacts  # usernames/BSUID: wa_id may be left out
    for contact in matching:
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def _parse_message(
    message: JsonObject, contacts: list[JsonObject], batch: Batch
) -> InboundMessage | None:
    """One customer message, or None (its type noted in `batch.ignored`)."""
    wamid = _string(message, "id", "messages")
    sent_at = _timestamp(message, "messages")
    kind = message.get("type")
    sender = message.get("from")
    if not isinstance(sender, str) or not sender:
        batch.ignored.append("message:no_sender")  # a username without a wa_id (BSUID rollout)
        return None
    if sender.isdigit():
        conversation_id, phone = f"{CHANNEL}:+{sender}", f"+{sender}"
    else:
        conversation_id, phone = f"{CHANNEL}:{sender}", None
    context = message.get("context")
    reply_to = context.get("id") if isinstance(context, dict) else None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "conversation_id": conversation_id,
        "provider_id": wamid,
        "sent_at": float(sent_at),
        "reply_to": reply_to if isinstance(reply_to, str) and reply_to else None,
        "display_name": _display_name(contacts, sender),
        "phone": phone,
    }
    content = message.get(kind) if isinstance(kind, str) else None
    if kind == "text":
        body = _object(content, "text").get("body")
        if not isinstance(body, str) or not body.strip():
            raise PayloadError("text.body must be a non-empty string")
        return InboundMessage(kind=Kind.TEXT, text=body, **common)
    if kind in MEDIA_TYPES:
        media = _object(content, str(kind))
        reference = MediaRef(
            provider_ref=_string(media, "id", str(kind)),
            content_type=str(media.get("mime_type") or ""),
            filename=str(media["filename"]) if media.get("filename") else None,
        )
        caption = media.get("caption")
        return InboundMessage(
            kind=Kind.MEDIA,
            text=caption if isinstance(caption, str) else "",
            media=(reference,),
            extra={"type": kind},
            **common,
        )
    if kind == "location":
        place = _object(content, "location")
        try:
            latitude, longitude = float(place["latitude"]), float(place["longitude"])
        except (KeyError, TypeError, ValueError) as error:
            raise PayloadError("location needs numeric latitude and longitude") from error
        location = Location(
            latitude=latitude,
            longitude=longitude,
            name=_optional(place, "name"),
            address=_optional(place, "address"),
        )
        return InboundMessage(kind=Kind.LOCATION, location=location, **common)
    if kind == "interactive":
        interactive = _object(content, "interactive")
        reply_kind = interactive.get("type")
        if reply_kind not in ("button_reply", "list_reply"):
            batch.ignored.append(f"interactive:{_name(reply_kind)}")
            return None
        reply = _object(interactive.get(reply_kind), str(reply_kind))
        return InboundMessage(
            kind=Kind.BUTTON,
            payload=_string(reply, "id", str(reply_kind)),
            text=str(reply.get("title") or ""),
            **common,
        )
    if kind == "button":  # a template's quick reply
        button = _object(content, "button")
        payload = button.get("payload") or button.get("text")
        if not isinstance(payload, str) or not payload:
            raise PayloadError("button.payload must be a non-empty string")
        return InboundMessage(
            kind=Kind.BUTTON, payload=payload, text=str(button.get("text") or ""), **common
        )
    if kind == "contacts":
        # Someone else's card: kept for the desk, never linked to this customer's profile.
        cards = _objects(content, "contacts")
        return InboundMessage(kind=Kind.CONTACT, extra={"contacts": cards}, **common)
    batch.ignored.append(f"message:{_name(kind)}")  # reaction, unsupported, system, order…
    return None


def _parse_status(status: JsonObject) -> StatusUpdate | None:
    """A delivery status of a message we sent; None for values we do not track."""
    wamid = _string(status, "id", "statuses")
    value = STATUSES.get(str(status.get("status")))
    if value is None:
        return None
    code = message = None
    if value is DeliveryStatus.FAILED:
        errors = _objects(status.get("errors"), "statuses.errors")
        first = errors[0] if errors else {}
        code = str(first.get("code") or "unknown")
        details = first.get("error_data")
        detail = details.get("details") if isinstance(details, dict) else None
        title = first.get("title") or first.get("message")
        message = " - ".join(str(text) for text in (title, detail) if text) or None
    return StatusUpdate(
        channel=CHANNEL, provider_id=wamid, status=value, error_code=code, error_message=message
    )


class WhatsAppInput(HiloInput):
    """The WhatsApp Cloud API webhook: Meta's handshake, signed notifications."""

    channel = CHANNEL
    output_class = WhatsAppOutput

    def __init__(
        self, settings: WhatsAppSettings | None = None, hub: ChannelHub | None = None
    ) -> None:
        """Settings from the environment unless given (tests build them directly)."""
        self.settings = settings or WhatsAppSettings.from_env()
        max_bytes = hub.media_limits.max_bytes if hub is not None else None
        super().__init__(
            WhatsAppSender(self.settings, max_bytes=max_bytes),
            configured=self.settings.configured,
            missing=self.settings.missing(),
            hub=hub,
            max_body_bytes=MAX_BODY_BYTES,
        )

    def verify(self, request: Request) -> None:
        """`X-Hub-Signature-256` over the raw body with the app secret."""
        meta.verify_signature(
            self.settings.app_secret, request.body, request.headers.get("X-Hub-Signature-256")
        )

    def parse(self, request: Request) -> Batch:
        """Every entry, change, message and status of the delivery."""
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise PayloadError("not JSON") from error
        return parse_payload(data)

    def extra_routes(self, blueprint: Blueprint) -> None:
        """`GET /webhook`: Meta's subscription handshake, next to the core's POST."""

        @blueprint.route("/webhook", methods=["GET"])
        async def whatsapp_handshake(request: Request) -> HTTPResponse:
            if not self.configured:
                return self.not_configured()
            return meta.handshake(request, self.settings.verify_token)
