"""The sandbox channel: a local web page that looks like a phone chat, for trying Hilo.

`make run` opens it at http://localhost:5005/webhooks/sandbox/. It goes through the same core
as the real channels (durable inbox, dedupe on the page's message id, background processing,
outbound store), so what works here works on WhatsApp. There are no credentials, so it is for
the developer's own machine: in development it answers only local requests, and in production
it is not mounted (connectors/local.py).

Routes under /webhooks/sandbox/:
- `GET /`: the page.
- `POST /webhook`: a customer message, JSON `{"conversation", "message_id", "text"}` (or
  `"payload"` for a button tap), or multipart with a `file` field and an optional caption.
- `GET /events?conversation=…&after=N`: server-sent events, one per message the bot or an
  agent sent after outbound id N.
- `GET /history?conversation=…`: the conversation so far (both directions), for a reload.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.headers import parse_content_header
from sanic.request import File, Request, parse_multipart_form
from sanic.response import HTTPResponse

from connectors.adapter import Batch, ChannelSender
from connectors.core import ChannelHub
from connectors.errors import PayloadError
from connectors.local import guard, unmounted
from connectors.media_inbound import check_and_store
from connectors.messages import InboundMessage, Kind, MediaRef, OutboundPart
from connectors.outbox import OutboundRecord
from connectors.registry import SandboxRules
from connectors.settings import MediaLimits
from connectors.webhook import HiloInput, HiloOutput
from hilo.profile import is_production

PAGE = Path(__file__).with_name("static") / "sandbox.html"
CONVERSATION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 10_000
KEEPALIVE_SECONDS = 15.0


class SandboxSender(SandboxRules, ChannelSender):
    """Nothing to call: the page reads the outbound store, so recording is delivering."""

    text_limit = 4096

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """A local id; the page shows the part from the outbound store."""
        return f"sandbox-{uuid.uuid4().hex}"


class SandboxOutput(HiloOutput):
    """Responses to the sandbox page."""

    channel = "sandbox"


class SandboxInput(HiloInput):
    """The sandbox page and its webhook."""

    channel = "sandbox"
    output_class = SandboxOutput
    intake = False  # its page streams replies from the process that sends them

    def __init__(self, hub: ChannelHub | None = None) -> None:
        """Always configured: there is nothing to configure."""
        super().__init__(
            SandboxSender(),
            configured=True,
            missing=[],
            hub=hub,
            max_body_bytes=MediaLimits.from_env().max_bytes + 64 * 1024,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The page and its webhook for local requests; nothing in production."""
        if is_production():
            return unmounted(self.name())
        return guard(super().blueprint(on_new_message))

    def verify(self, request: Request) -> None:
        """Nothing to verify: the guard already limits the sandbox to this machine."""

    def parse(self, request: Request) -> Batch:
        """One message from the page: JSON, or multipart with a file."""
        now = time.time()
        declared, parameters = parse_content_header(request.content_type or "")
        if declared == "multipart/form-data":
            fields, upload = _multipart(request.body or b"", str(parameters.get("boundary", "")))
        else:
            try:
                fields = request.json or {}
            except Exception as error:  # Sanic raises its own InvalidUsage on bad JSON
                raise PayloadError("not JSON") from error
            if not isinstance(fields, dict):
                raise PayloadError("expected a JSON object")
            upload = None
        conversation = str(fields.get("conversation") or "")
        message_id = str(fields.get("message_id") or "")
        if not CONVERSATION.match(conversation):
            raise PayloadError("conversation must be 8-64 letters, digits, - or _")
        if not MESSAGE_ID.match(message_id):
            raise PayloadError("message_id must be 1-64 letters, digits, - or _")
        text = str(fields.get("text") or "")[:MAX_TEXT]
        payload = str(fields.get("payload") or "") or None
        media: tuple[MediaRef, ...] = ()
        if upload is not None:
            reference = MediaRef(
                provider_ref="upload", content_type=upload.type or "", filename=upload.name
            )
            media = (
                check_and_store(
                    upload.body,
                    upload.type or "",
                    reference,
                    self.hub.media_store,
                    self.hub.media_limits,
                ),
            )
        if not (text.strip() or payload or media):
            raise PayloadError("empty message")
        kind = Kind.BUTTON if payload else Kind.MEDIA if media else Kind.TEXT
        message = InboundMessage(
            channel=self.channel,
            conversation_id=f"sandbox:{conversation}",
            # The page makes its ids: unique within its conversation, not across browsers.
            provider_id=f"{conversation}:{message_id}",
            kind=kind,
            sent_at=now,
            text=text,
            payload=payload,
            media=media,
        )
        return Batch(messages=[message])

    async def index(self, request: Request) -> HTTPResponse:
        """The page (instead of the health check other channels answer here)."""
        return await response.file(
            str(PAGE),
            mime_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' http: https: data: blob:; "
                    "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
                ),
                "X-Content-Type-Options": "nosniff",
            },
        )

    def extra_routes(self, blueprint: Blueprint) -> None:
        """The page's event stream and the history."""

        @blueprint.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            conversation = self._conversation(request)
            if conversation is None:
                return response.json({"error": "bad conversation"}, status=400)
            inbound = await asyncio.to_thread(self.hub.inbox.conversation, conversation)
            outbound = await asyncio.to_thread(self.hub.outbox.conversation, conversation)
            return response.json(
                {
                    "customer": [
                        {
                            "text": message.text,
                            "payload": message.payload,
                            "media": [m.stored_url for m in message.media if m.stored_url],
                            "at": message.sent_at,
                        }
                        for message in inbound
                    ],
                    "bot": [_shown(record) for record in outbound],
                }
            )

        @blueprint.route("/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse:
            conversation = self._conversation(request)
            if conversation is None:
                return response.json({"error": "bad conversation"}, status=400)
            try:
                after = int(request.args.get("after", "0"))
            except ValueError:
                return response.json({"error": "after must be an integer"}, status=400)
            stream = await request.respond(
                content_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
            changed = self.hub.watch(conversation)
            # Ends when the server stops (the hub wakes its watchers), as well as when the page
            # goes: the page's EventSource reconnects to the next server.
            started_here = not self.hub.stopped

            def stopped() -> bool:
                return started_here and self.hub.stopped

            try:
                transport: Any = request.transport
                while transport is not None and not transport.is_closing() and not stopped():
                    records = await asyncio.to_thread(
                        self.hub.outbox.conversation, conversation, after
                    )
                    for record in records:
                        after = record.id
                        await stream.send(
                            f"id: {record.id}\ndata: {json.dumps(_shown(record))}\n\n"
                        )
                    try:
                        await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
                    except asyncio.TimeoutError:
                        await stream.send(": keepalive\n\n")
                    changed.clear()
            finally:
                self.hub.unwatch(conversation, changed)
            return stream

    @staticmethod
    def _conversation(request: Request) -> str | None:
        value = str(request.args.get("conversation", ""))
        return f"sandbox:{value}" if CONVERSATION.match(value) else None


def _multipart(body: bytes, boundary: str) -> tuple[dict[str, str], File | None]:
    """The page's form fields and its `file` part; `PayloadError` if the body is not a form.

    Sanic's own `request.form` logs a stack trace for a body it cannot parse (no boundary, a
    part header without a colon or not UTF-8, a field in an unknown charset) and returns an
    empty form: each such upload logged an error and was then refused for a missing
    conversation. A broken upload is the sender's error, answered 400 like any other.
    """
    if not boundary:
        raise PayloadError("multipart without a boundary")
    try:
        form, files = parse_multipart_form(body, boundary.encode("utf-8"))
    except (ValueError, LookupError) as error:  # UnicodeError is a ValueError
        raise PayloadError("malformed multipart body") from error
    fields = {key: form.get(key, "") for key in form}
    return fields, files.get("file")


def _shown(record: OutboundRecord) -> dict[str, Any]:
    """What the page shows of an outbound message."""
    body = record.body
    return {
        "id": record.id,
        "source": record.source,
        "text": body.get("text") or "",
        "buttons": body.get("buttons") or [],
        "image_url": body.get("image_url"),
        "document_url": body.get("document_url"),
        "filename": body.get("filename"),
        "status": record.status.value,
        "at": record.created_at,
    }
