"""A channel's webhook and output over the hub: what Rasa mounts and sends through.

- `HiloInput`: the webhook over the shared core (health, `POST /webhook`: 503 unconfigured,
  413 too large, `verify` → 403, `parse` → 400, then stored and acknowledged), plus the
  provider's extra routes; `get_output_channel()` works without a request.
- `HiloOutput`: Rasa's output channel, handing each response to the hub (windows, splitting,
  retries, the outbound store).

Each channel module subclasses both, with its `ChannelSender` (connectors/adapter.py).
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.adapter import Batch, ChannelSender
from connectors.core import ChannelHub, default_hub
from connectors.errors import PayloadError, SignatureError
from connectors.messages import OutboundPart
from connectors.render import parts_from_response
from hilo.database import DATABASE_DOWN

logger = logging.getLogger(__name__)
# When the database is down: the webhook answers 503 and asks the provider to retry after this.
RETRY_AFTER_SECONDS = 5


class HiloOutput(OutputChannel):
    """Sends Rasa's responses through a channel's `ChannelSender`, via the hub.

    One instance per processed message (`reply_to` = its inbox id, so replies are sent once)
    or, from `get_output_channel()`, for the desk and Rasa's HTTP API (`reply_to` None).
    Messages whose metadata says `"source": "agent"` (or carries `agent_id`) are an agent's:
    the window rules for people apply (Messenger's HUMAN_AGENT tag).
    """

    channel: ClassVar[str] = "hilo"

    def __init__(self, sender: ChannelSender, hub: ChannelHub, reply_to: int | None) -> None:
        """Sends through `sender`, recording in `hub`."""
        self.sender = sender
        self.hub = hub
        self.reply_to = reply_to
        self.responses = 0  # Rasa responses given to this output (0 after a turn: silence)
        self._seq = 0

    @classmethod
    def name(cls) -> str:
        """The channel name (selects channel-specific response variations)."""
        return cls.channel

    def _next_seq(self) -> int | None:
        if self.reply_to is None:
            return None
        self._seq += 1
        return self._seq

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One Rasa response: its parts, through the window check, recorded and sent."""
        self.responses += 1
        source = message_source(message)
        parts = parts_from_response(message)
        if message.get("custom") and not parts:
            logger.info("connectors.send.custom_ignored channel=%s", self.channel)
        await self.hub.deliver(
            self.sender,
            recipient_id,
            parts,
            source=source,
            reply_to=self.reply_to,
            next_seq=self._next_seq,
            author=_author(message) if source == "agent" else None,
        )

    async def say(self, conversation_id: str, text: str) -> None:
        """A message from Hilo itself (refusals, apologies), not from the bot's domain."""
        await self.hub.deliver(
            self.sender,
            conversation_id,
            [OutboundPart(text=text)],
            source="system",
            reply_to=self.reply_to,
            next_seq=self._next_seq,
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Rasa's plain-text entry point (used by some built-in actions)."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


async def read_capped(request: Request, limit: int) -> bool:
    """Reads a streamed request's body unless it is over `limit` bytes (False then).

    A declared Content-Length over the limit is refused before anything is read; a chunked
    body is read until it passes the limit. Bodies Sanic already read are just measured.
    A chunked body whose framing is broken raises `PayloadError`: Sanic would otherwise try
    to read it again after the answer and log that as an uncaught error.
    """
    stream = request.stream
    if stream is not None and stream.request_body and not request.body:
        stream.request_max_size = limit
        try:
            await request.receive_body()
        except PayloadTooLarge:
            return False
        except InvalidUsage as error:
            stream.request_body = None  # nothing more to read: the connection closes
            raise PayloadError(str(error).lower()) from error
    return len(request.body or b"") <= limit


class HiloInput(InputChannel):
    """A channel's webhook over the shared core; subclasses verify and parse.

    Mounted by Rasa at `/webhooks/<name>/` from credentials.yml, with `GET /` (health) and
    `POST /webhook`. A subclass sets `channel`, `output_class` and `settings_class`, builds its
    `sender`, and implements `verify` and `parse`; `extra_routes` adds provider-specific routes
    (the Meta handshake, Twilio's status callbacks, the sandbox page).
    """

    channel: ClassVar[str] = "hilo"
    output_class: ClassVar[type[HiloOutput]] = HiloOutput
    # Whether a webhook intake (connectors/intake.py) may take this channel's webhook: true
    # when storing is all that happens before the acknowledgement.
    intake: ClassVar[bool] = True

    def __init__(
        self,
        sender: ChannelSender,
        *,
        configured: bool,
        missing: list[str],
        hub: ChannelHub | None = None,
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        """`configured` False: the webhook answers 503 naming the `missing` variables.

        Bodies over `max_body_bytes` get 413 (providers' own payloads stay far below it).
        """
        self.sender = sender
        self.configured = configured
        self.missing = missing
        self.max_body_bytes = max_body_bytes
        self._hub = hub

    @property
    def hub(self) -> ChannelHub:
        """The hub this channel stores into (the process's, unless a test gave one)."""
        if self._hub is None:
            self._hub = default_hub()
        return self._hub

    @classmethod
    def name(cls) -> str:
        """The Rasa channel name: URL prefix, `input_channel`, response variations."""
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Everything comes from the environment; credentials.yml only names the class.

        (Rasa refuses to start when a `${VAR}` in credentials.yml is unset, and a laptop has
        no provider credentials: see connectors/settings.py.)
        """
        return cls()  # type: ignore[call-arg]  # every channel's settings default to the env

    def output(self, reply_to: int | None = None) -> HiloOutput:
        """An output channel for this channel's conversations."""
        return self.output_class(self.sender, self.hub, reply_to)

    def get_output_channel(self) -> OutputChannel | None:
        """Works without a request: the desk and Rasa's HTTP API send through it."""
        return self.output(reply_to=None) if self.configured else None

    @abstractmethod
    def verify(self, request: Request) -> None:
        """Checks the request comes from the provider; raises `SignatureError`."""

    @abstractmethod
    def parse(self, request: Request) -> Batch:
        """The delivery's messages and statuses; raises `PayloadError`."""

    def acknowledge(self, batch: Batch) -> HTTPResponse:
        """The provider's expected success answer."""
        return response.json({"status": "ok"})

    def extra_routes(self, blueprint: Blueprint) -> None:
        """Adds provider-specific routes."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Health, webhook and the channel's extra routes, wired to the hub."""
        hub = self.hub
        hub.register(self, on_new_message)
        blueprint = Blueprint(f"hilo_{self.name()}", __name__)

        @blueprint.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            agent = getattr(app.ctx, "agent", None)
            hub.start(bot_ready=(lambda: agent is not None and agent.is_ready()))

        @blueprint.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await asyncio.to_thread(hub.stop)

        @blueprint.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            return await self.index(request)

        # Streamed: Sanic does not read the body before the handler, so the cap below
        # applies before a byte of an oversized body is read.
        @blueprint.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            try:
                if not await read_capped(request, self.max_body_bytes):
                    return response.json({"error": "body too large"}, status=413)
            except PayloadError as error:
                return response.json({"error": f"malformed body: {error}"}, status=400)
            return await self.handle_webhook(request)

        self.extra_routes(blueprint)
        return blueprint

    async def index(self, request: Request) -> HTTPResponse:
        """`GET /`: whether the channel is configured (never which values it has)."""
        return response.json(
            {"status": "ok" if self.configured else "not configured", "channel": self.name()}
        )

    async def handle_webhook(self, request: Request) -> HTTPResponse:
        """Verify, parse, store, acknowledge: no NLU, no sending."""
        if not self.configured:
            return self.not_configured()
        try:
            self.verify(request)
        except SignatureError as error:
            logger.warning("connectors.webhook.rejected channel=%s reason=%s", self.name(), error)
            return response.json({"error": "invalid signature"}, status=403)
        try:
            batch = self.parse(request)
        except PayloadError as error:
            logger.warning("connectors.webhook.malformed channel=%s reason=%s", self.name(), error)
            return response.json({"error": f"malformed body: {error}"}, status=400)
        try:
            # Shielded: Sanic cancels the handler when the client hangs up, and a message
            # stored but not yet handed to the dispatcher then waited for a restart (the
            # provider's retry is a duplicate, acknowledged without waking anything).
            await asyncio.shield(self.hub.accept(batch))
        except DATABASE_DOWN as error:
            # Not stored, so not acknowledged: the provider delivers it again later.
            logger.warning(
                "connectors.webhook.unavailable channel=%s error=%s",
                self.name(),
                type(error).__name__,
            )
            return response.json(
                {"error": "messages cannot be stored right now; deliver again later"},
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return self.acknowledge(batch)

    def not_configured(self) -> HTTPResponse:
        """503 naming what to set (never the values)."""
        return response.json(
            {"error": f"{self.name()} is not configured", "set": self.missing}, status=503
        )


def _author(message: dict[str, Any]) -> str | None:
    name = message.get("agent_name") or message.get("agent_id")
    return str(name)[:120] if name else None


def message_source(message: dict[str, Any]) -> str:
    """Who a Rasa response is from: "agent", "handoff" or "system" when it says so, else "bot".

    Agents' messages come through Rasa's HTTP API with `source` (or an `agent_id`) in their
    metadata; the handoff action marks its promise `source: handoff`.
    """
    declared = message.get("source")
    if declared in ("agent", "handoff", "system"):
        return str(declared)
    return "agent" if message.get("agent_id") else "bot"
