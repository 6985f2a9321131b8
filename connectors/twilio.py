"""The Twilio channel: WhatsApp and SMS through Twilio Programmable Messaging.

Routes under /webhooks/twilio/ (configure both in the Twilio console / as the StatusCallback):
- `POST /webhook`: customer messages, form-encoded, signed with `X-Twilio-Signature`.
- `POST /status`: delivery status callbacks of the messages Hilo sent (same signature).

Conversations are `twilio:whatsapp:+<digits>` (From=`whatsapp:+…`) and `twilio:sms:+<digits>`
(From=`+…`); the phone is E.164, so the core links the customer's profile across channels.
Twilio signs the URL it called, so behind a proxy the URL is rebuilt from `HILO_PUBLIC_URL`.
Replies go out with the official `twilio` library (async client, one per event loop) to
`TWILIO_API_BASE_URL`; buttons become a numbered list (in-session WhatsApp buttons need
pre-approved Content API templates); outside WhatsApp's 24 h window only the configured
template (`TWILIO_TEMPLATE_CONTENT_SID`) is sent. See `../shared/reference/channel-specs.md` §1.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from connectors.adapter import Batch, ChannelSender, PerLoop
from connectors.core import ChannelHub
from connectors.errors import MediaError, PayloadError, SendError, SignatureError
from connectors.media_hosts import TWILIO_MEDIA_DOMAINS, MediaHosts
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
from connectors.registry import TwilioRules
from connectors.render import numbered
from connectors.settings import MediaLimits, TwilioSettings
from connectors.webhook import HiloInput, HiloOutput

TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BODY_BYTES = 256 * 1024  # Twilio's forms are a few KB (Body ≤ 1600 chars, ≤ 10 media)
MAX_MEDIA = 10
SEND_TIMEOUT = 20.0  # the twilio library sets no timeout on its aiohttp requests
MEDIA_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RATE_LIMIT_CODES = {"20429", "63018"}  # Twilio's "too many requests" and WhatsApp's rate limit

_ADDRESS = re.compile(r"^(whatsapp:)?(\+\d{6,15})$")
_CONVERSATION = re.compile(r"^twilio:(whatsapp|sms):(\+\d{6,15})$")
_TYPE_NAME = re.compile(r"^[A-Za-z_]{1,32}$")

STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
}
# queued, accepted, sending, scheduled (and anything new) say nothing the outbox keeps.


class FormParams(dict[str, list[str]]):
    """A form's fields with every value: repeated keys and empty values (`Body=`) kept.

    Twilio signs every parameter it sent, including empty ones and ones we do not know.
    Sanic's `request.form` drops empty values (`parse_qs` without `keep_blank_values`), so a
    location message (`Body=`) would fail the check; this is parsed from the raw body instead.
    `getlist` is what `RequestValidator` uses to read repeated keys.
    """

    def getlist(self, name: str) -> list[str]:
        """All values of `name` (what `RequestValidator.compute_signature` reads)."""
        return list(self.get(name, []))

    def first(self, name: str) -> str:
        """The first value of `name`, or ""."""
        values = self.get(name)
        return values[0] if values else ""


def parse_form(body: bytes) -> FormParams:
    """A form-encoded body as `FormParams`; `PayloadError` if it is not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError("body is not UTF-8") from error
    return FormParams(parse_qs(text, keep_blank_values=True))


def signed_url(public_url: str, path: str, query_string: str = "") -> str:
    """The URL Twilio called (and signed): Hilo's public URL, the path, the query string."""
    url = public_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url


def signature_valid(
    auth_token: str, url: str, params: Mapping[str, Sequence[str]], signature: str
) -> bool:
    """Whether `signature` is Twilio's X-Twilio-Signature for `url` and these form params.

    HMAC-SHA1 over the URL and the sorted params, checked by Twilio's own `RequestValidator`
    (constant time; with and without the default port, as Twilio signs either).
    """
    if not signature:
        return False
    form = (
        params
        if isinstance(params, FormParams)
        else FormParams({name: list(values) for name, values in params.items()})
    )
    return bool(RequestValidator(auth_token).validate(url, form, signature))


def _type_name(prefix: str, value: str) -> str:
    """An ignored event's type for the log: the provider's word if it is a plain word."""
    return f"{prefix}:{value if _TYPE_NAME.match(value) else 'other'}"


def _float(form: FormParams, name: str) -> float:
    try:
        return float(form.first(name))
    except ValueError as error:
        raise PayloadError(f"{name} is not a number") from error


def parse_message(form: FormParams, now: float) -> Batch:
    """A customer's message (text, media, location or a template button tap).

    Twilio sends no timestamp: `sent_at` is when it arrived. A message with nothing Hilo can
    use (no words, file, location or button) is ignored by its `MessageType`.
    """
    sid = form.first("MessageSid")
    sender = form.first("From")
    if not sid or not sender:
        raise PayloadError("missing MessageSid or From")
    address = _ADDRESS.match(sender)
    if address is None:
        raise PayloadError("From is not a WhatsApp or phone address")
    medium = "whatsapp" if address.group(1) else "sms"
    phone = address.group(2)
    try:
        count = int(form.first("NumMedia") or 0)
    except ValueError as error:
        raise PayloadError("NumMedia is not a number") from error
    media = tuple(
        MediaRef(provider_ref=url, content_type=form.first(f"MediaContentType{index}"))
        for index in range(min(max(count, 0), MAX_MEDIA))
        if (url := form.first(f"MediaUrl{index}"))
    )
    location = None
    if form.first("Latitude") and form.first("Longitude"):
        location = Location(
            latitude=_float(form, "Latitude"),
            longitude=_float(form, "Longitude"),
            name=form.first("Label") or None,
            address=form.first("Address") or None,
        )
    payload = form.first("ButtonPayload") or None
    text = form.first("Body")
    if payload:
        text = form.first("ButtonText") or text
    if payload:
        kind = Kind.BUTTON
    elif media:
        kind = Kind.MEDIA
    elif location is not None:
        kind = Kind.LOCATION
    elif text.strip():
        kind = Kind.TEXT
    else:
        return Batch(ignored=[_type_name("message", form.first("MessageType") or "empty")])
    extra: dict[str, Any] = {"medium": medium}
    if form.first("MessageType"):
        extra["message_type"] = form.first("MessageType")
    if form.first("Forwarded").lower() == "true":
        extra["forwarded"] = True
    message = InboundMessage(
        channel=TwilioSender.channel,
        conversation_id=f"twilio:{medium}:{phone}",
        provider_id=sid,
        kind=kind,
        sent_at=now,
        text=text,
        payload=payload,
        media=media,
        location=location,
        reply_to=form.first("OriginalRepliedMessageSid") or None,
        display_name=form.first("ProfileName") or None,
        phone=phone,
        extra=extra,
    )
    return Batch(messages=[message])


def parse_status(form: FormParams) -> Batch:
    """A status callback: sent, delivered, read, or failed with Twilio's error code."""
    sid = form.first("MessageSid") or form.first("SmsSid")
    status = form.first("MessageStatus") or form.first("SmsStatus")
    if not sid or not status:
        raise PayloadError("missing MessageSid or MessageStatus")
    mapped = STATUSES.get(status.lower())
    if mapped is None:
        return Batch(ignored=[_type_name("status", status)])
    failed = mapped is DeliveryStatus.FAILED
    update = StatusUpdate(
        channel=TwilioSender.channel,
        provider_id=sid,
        status=mapped,
        error_code=(form.first("ErrorCode") or None) if failed else None,
        error_message=(form.first("ChannelStatusMessage") or None) if failed else None,
    )
    return Batch(statuses=[update])


def is_status_callback(form: FormParams) -> bool:
    """A status callback (they carry `MessageStatus`; customer messages `SmsStatus=received`)."""
    return bool(form.first("MessageStatus")) and form.first("SmsStatus") != "received"


def send_error(error: TwilioRestException) -> SendError:
    """Twilio's refusal as a `SendError`: its code, its message; rate limits and 5xx retry."""
    status = int(error.status or 0)
    code = str(error.code or status or "unknown")
    retryable = status == 429 or status >= 500 or code in RATE_LIMIT_CODES
    return SendError(code, str(error.msg or f"HTTP {status}"), retryable=retryable)


@dataclass
class _Slot:
    """A loop's Twilio client (made on first send on that loop)."""

    client: Client | None = None
    loop: asyncio.AbstractEventLoop | None = None


class TwilioSender(TwilioRules, ChannelSender):
    """Sends through Twilio's Messages API; fetches customers' files with the account's key."""

    text_limit = 1600  # Body
    settings: TwilioSettings

    def __init__(self, settings: TwilioSettings, *, max_bytes: int | None = None) -> None:
        """`max_bytes` caps a download (default `HILO_MEDIA_MAX_BYTES`)."""
        self.settings = settings
        self.max_bytes = max_bytes if max_bytes is not None else MediaLimits.from_env().max_bytes
        self._slots: PerLoop[_Slot] = PerLoop(_Slot)

    def _client(self) -> Client:
        """The running loop's client: one aiohttp session, reused by every send on the loop.

        Remade if its loop is gone (a new loop can get a dead one's `id`, which `PerLoop`
        keys by) or its session was closed.
        """
        loop = asyncio.get_running_loop()
        slot = self._slots.get()
        if slot.client is None or slot.loop is not loop or slot.client.http_client.session.closed:
            client = Client(
                self.settings.account_sid,
                self.settings.auth_token,
                http_client=AsyncTwilioHttpClient(),
            )
            client.api.base_url = self.settings.api_base_url.rstrip("/")  # Messages included
            slot.client, slot.loop = client, loop
        return slot.client

    async def aclose(self) -> None:
        """Closes the running loop's HTTP session (before its loop ends: no unclosed session)."""
        slot = self._slots.get()
        if slot.client is not None and slot.loop is asyncio.get_running_loop():
            await slot.client.http_client.close()
        slot.client = None

    @staticmethod
    def _address(conversation_id: str) -> tuple[str, str]:
        match = _CONVERSATION.match(conversation_id)
        if match is None:
            raise SendError("bad_recipient", "not a twilio:whatsapp: or twilio:sms: conversation")
        return match.group(1), match.group(2)

    def numbered_buttons(self, part: OutboundPart) -> bool:
        """Always a numbered list: native buttons need pre-approved Content API templates."""
        return bool(part.buttons)

    def requests(self, conversation_id: str, part: OutboundPart) -> list[dict[str, Any]]:
        """The `messages.create` arguments for a part (one message; a list for the tests' sake).

        The core leaves room in the text for the numbered choices (`numbered_buttons`), so a
        part with buttons always fits one message.
        """
        medium, phone = self._address(conversation_id)
        base: dict[str, Any] = {
            "to": f"whatsapp:{phone}" if medium == "whatsapp" else phone,
            "from_": self._sender(medium),
            "status_callback": self.settings.public_url.rstrip("/") + STATUS_PATH,
        }
        if part.template:
            if not self.settings.template_content_sid:
                raise SendError("no_template", "TWILIO_TEMPLATE_CONTENT_SID is not set")
            return [{**base, "content_sid": self.settings.template_content_sid}]
        if part.image_url or part.document_url:
            media: dict[str, Any] = {**base, "media_url": [part.image_url or part.document_url]}
            body = part.text if part.image_url else (part.text or part.filename or "")
            if body:
                media["body"] = body
            return [media]
        if part.buttons:
            return [{**base, "body": numbered(part.text, part.buttons)}]
        if not part.text.strip():
            raise SendError("empty", "nothing to send")
        return [{**base, "body": part.text}]

    def _sender(self, medium: str) -> str:
        if medium == "whatsapp":
            number = self.settings.whatsapp_from.removeprefix("whatsapp:")
            if not number:
                raise SendError("not_configured", "TWILIO_WHATSAPP_FROM is not set")
            return f"whatsapp:{number}"
        if not self.settings.sms_from:
            raise SendError("not_configured", "TWILIO_SMS_FROM is not set")
        return self.settings.sms_from

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """Creates the message(s) on Twilio; returns the (last) message sid."""
        sid: str | None = None
        for arguments in self.requests(conversation_id, part):
            client = self._client()
            try:
                message = await asyncio.wait_for(
                    client.messages.create_async(**arguments), SEND_TIMEOUT
                )
            except TwilioRestException as error:
                raise send_error(error) from error
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                raise SendError("network", type(error).__name__, retryable=True) from error
            sid = str(message.sid) if message.sid else None
        return sid

    def media_url(self, url: str) -> str:
        """Where to fetch a MediaUrl: api.twilio.com re-pointed to `TWILIO_API_BASE_URL`."""
        base = self.settings.api_base_url.rstrip("/")
        if base != TWILIO_API and (url == TWILIO_API or url.startswith(TWILIO_API + "/")):
            return base + url[len(TWILIO_API) :]
        return url

    def _trusted(self, url: str) -> bool:
        """Only Twilio's own hosts get the account's credentials."""
        if url.startswith(self.settings.api_base_url.rstrip("/") + "/"):
            return True
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """GETs a MediaUrl with HTTP basic auth; Twilio redirects to its storage (no auth)."""
        url = self.media_url(media.provider_ref)
        if not self._trusted(url):
            raise MediaError("download", "not a Twilio media URL")
        key = f"{self.settings.account_sid}:{self.settings.auth_token}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(key).decode()}
        async with httpx.AsyncClient(timeout=MEDIA_TIMEOUT) as client:
            hosts = MediaHosts(
                TWILIO_MEDIA_DOMAINS, (self.settings.api_base_url, self.settings.media_base_url)
            )
            return await download(
                client, url, hosts=hosts, max_bytes=self.max_bytes, headers=headers
            )


class TwilioOutput(HiloOutput):
    """Responses to Twilio conversations (WhatsApp and SMS)."""

    channel = "twilio"


class TwilioInput(HiloInput):
    """Twilio's message webhook and status callbacks."""

    channel = "twilio"
    output_class = TwilioOutput

    def __init__(
        self, settings: TwilioSettings | None = None, hub: ChannelHub | None = None
    ) -> None:
        """Reads `TWILIO_*` and `HILO_PUBLIC_URL` unless `settings` are given."""
        self.settings = settings or TwilioSettings.from_env()
        super().__init__(
            TwilioSender(self.settings),
            configured=self.settings.configured,
            missing=self.settings.missing(),
            hub=hub,
            max_body_bytes=MAX_BODY_BYTES,
        )

    def verify(self, request: Request) -> None:
        """`X-Twilio-Signature` over the public URL of this route and every form param."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise SignatureError("missing X-Twilio-Signature")
        try:
            form = parse_form(request.body or b"")
        except PayloadError as error:
            raise SignatureError("unreadable body") from error
        url = signed_url(self.settings.public_url, request.path, request.query_string)
        if not signature_valid(self.settings.auth_token, url, form, signature):
            raise SignatureError("X-Twilio-Signature does not match")

    def parse(self, request: Request) -> Batch:
        """A customer message (`/webhook`) or a status callback (`/status`)."""
        form = parse_form(request.body or b"")
        if request.path.endswith("/status") or is_status_callback(form):
            return parse_status(form)
        return parse_message(form, time.time())

    def acknowledge(self, batch: Batch) -> HTTPResponse:
        """Empty TwiML: Twilio expects TwiML, and the reply goes out through the API."""
        return response.text(EMPTY_TWIML, content_type="text/xml")

    def extra_routes(self, blueprint: Blueprint) -> None:
        """`POST /status`: status callbacks, through the same verify/parse/store as messages."""

        @blueprint.route("/status", methods=["POST"])
        async def status_callback(request: Request) -> HTTPResponse:
            return await self.handle_webhook(request)
