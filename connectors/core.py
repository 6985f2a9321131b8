"""The shared core of every channel: verify, store, acknowledge; then process and send.

Inbound (`HiloInput`, one subclass per channel):

    webhook ─► verify (403) ─► parse (400) ─► inbox.accept (dedupe) ─► 200
                                                   └─► dispatcher (bot thread, in order per
                                                       conversation): media, profile, buttons,
                                                       Rasa's on_new_message

Outbound (`HiloOutput`, one subclass per channel): a Rasa response becomes parts
(`connectors/render.py`), the messaging window decides what may go (`connectors/windows.py`),
each part is recorded, sent by the channel's `ChannelSender` with retries, and marked sent or
failed with the provider's error (`connectors/outbox.py`).

Adapters translate and nothing else: a `ChannelSender` knows how to send a part and fetch a
file; a `HiloInput` subclass knows how to verify and parse its provider's webhook. Everything
they share (storage, dedupe, ordering, windows, splitting, retries, media limits, logging
without personal data) lives here, once.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import re
import sys
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, TypeVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from connectors.customers import Customers
from connectors.dispatcher import Dispatcher, Failed, Retry
from connectors.errors import MediaError, PayloadError, SendError, SignatureError
from connectors.inbox import Inbox, InboxItem
from connectors.media_inbound import store_inbound_media
from connectors.media_store import LocalMediaStore, MediaStore
from connectors.messages import (
    InboundMessage,
    Kind,
    MediaRef,
    OutboundPart,
    StatusUpdate,
)
from connectors.outbox import Outbox
from connectors.render import match_button, numbered, parts_from_response, split_part
from connectors.settings import MediaLimits
from connectors.storage import Database, make_engine
from connectors.windows import Window, decide

logger = logging.getLogger(__name__)
T = TypeVar("T")
# The handoff's fail-safe: (the message, its output channel, why) -> handled.
Escalation = Callable[["InboundMessage", "HiloOutput", str], Awaitable[bool]]
# httpx and twilio log every request at INFO: URLs carry credentials (the Bot API puts the
# bot token in the path, Twilio's the account), and a log line per request costs the bot
# throughput. Their warnings and errors still show.
for _chatty in ("httpx", "twilio"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

# After this many failed attempts at a turn the customer gets an apology and the message is
# marked failed (visible in the inbox), instead of retrying forever.
MAX_ATTEMPTS = 3
SEND_ATTEMPTS = 3
SWITCH_INTERVAL = 0.001

SORRY_BOT_ERROR = (
    "Perdón, tuvimos un problema técnico con tu mensaje. Ya quedó registrado y una persona "
    "lo revisa. / Sorry, we had a technical problem with your message; it is saved and a "
    "person will look at it."
)
SORRY_MEDIA = {
    "too_large": (
        "Perdón, ese archivo es demasiado grande para recibirlo aquí (máximo {limit} MB). "
        "¿Podés mandarlo más liviano? / Sorry, that file is too large (max {limit} MB)."
    ),
    "type": (
        "Perdón, ese tipo de archivo no lo puedo recibir. Mandá una foto, un PDF, un audio o "
        "un video. / Sorry, I can't receive that kind of file: please send a photo, PDF, "
        "audio or video."
    ),
    "download": (
        "Perdón, no pude descargar tu archivo. ¿Podés mandarlo de nuevo? / Sorry, I couldn't "
        "download your file; could you send it again?"
    ),
}


BUTTON_KEY = re.compile(r"^#\d{1,2}$")


def button_key(index: int) -> str:
    """What a channel sends as a button's id when the payload is too long for it (1-based)."""
    return f"#{index}"


def sender_ref(conversation_id: str) -> str:
    """A stable pseudonym for logs: conversation ids contain phone numbers."""
    return hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


class PerLoop(Generic[T]):
    """One client per event loop: HTTP clients may only be used on the loop that made them.

    The bot's turns send on the bot loop; the desk's replies (Rasa's HTTP API) send on the
    server loop.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        """`factory` makes a client for the running loop."""
        self._factory = factory
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self) -> T:
        """The running loop's client (made on first use; forgotten with its loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if loop not in self._clients:
                self._clients[loop] = self._factory()
            return self._clients[loop]


@dataclass
class Batch:
    """What one webhook delivery carried."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # event types we do not handle


class ChannelSender(ABC):
    """The adapter's outbound half: send one part, fetch one customer file."""

    channel: ClassVar[str]
    text_limit: ClassVar[int] = 4096
    buttons_text_limit: ClassVar[int | None] = None  # text with buttons, when shorter

    def window_for(self, conversation_id: str) -> Window:
        """The messaging window that applies to this conversation."""
        return Window.NONE

    def template_configured(self, conversation_id: str) -> bool:
        """Whether a re-engagement template is set for closed windows."""
        return False

    def numbered_buttons(self, part: OutboundPart) -> bool:
        """Whether this part's buttons go out as a numbered list (no native form)."""
        return False

    @abstractmethod
    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """Sends one part; returns the provider's message id. Raises `SendError`."""

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """Downloads a customer's file with the channel's credentials: (bytes, content type)."""
        raise MediaError("download", f"{self.channel} does not fetch media")

    async def before_turn(self, message: InboundMessage) -> None:
        """Channel chores before the bot sees a message (Telegram: stop a button's spinner)."""
        return None


@dataclass
class _Registration:
    channel: HiloInput
    on_new_message: Callable[[UserMessage], Awaitable[Any]]


class ChannelHub:
    """The connectors' state in one process: inbox, outbox, customers, dispatcher, media."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        media_store: MediaStore | None = None,
        media_limits: MediaLimits | None = None,
        concurrency: int = 4,
        bot_ready: Callable[[], bool] | None = None,
    ) -> None:
        """Uses `engine` (default: `CHANNELS_DATABASE_URL` / var/channels.db)."""
        self.engine = engine or make_engine()
        self.database = Database(self.engine)  # one writer for the three stores
        self.inbox = Inbox(self.database)
        self.outbox = Outbox(self.database)
        self.customers = Customers(self.database)
        self.media_store = media_store or LocalMediaStore()
        self.media_limits = media_limits or MediaLimits.from_env()
        self.dispatcher = Dispatcher(self.inbox, self._process, concurrency=concurrency)
        self._channels: dict[str, _Registration] = {}
        self._bot_ready = bot_ready
        # Set by the handoff (handoff/plugin.py); the channels work without it.
        self.with_people: Callable[[str], bool] | None = None
        self.escalate: Escalation | None = None
        self._started = False
        self._listeners: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners_lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------

    def register(
        self, channel: HiloInput, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """A channel's blueprint was mounted; its messages go to `on_new_message`."""
        self._channels[channel.name()] = _Registration(channel, on_new_message)

    def start(self, bot_ready: Callable[[], bool] | None = None) -> None:
        """Starts background processing, recovering what a crash left (idempotent)."""
        if bot_ready is not None:
            self._bot_ready = bot_ready
        if self._started:
            return
        self._started = True
        _watch_rasa_errors()
        # The bot thread computes (NLU) while the server loop answers webhooks; CPython hands
        # the GIL to a waiting thread every 5 ms by default, several times per webhook. 1 ms
        # keeps acknowledgements fast under load (bench/channels.py) at a negligible cost.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.dispatcher.start()
        logger.info("connectors.hub.started channels=%s", ",".join(sorted(self._channels)))

    def stop(self) -> None:
        """Finishes running turns; pending messages stay in the inbox for the next start."""
        if self._started:
            self._started = False
            self.dispatcher.stop()

    # --- inbound ----------------------------------------------------------------------

    async def accept(self, batch: Batch) -> int:
        """Stores a webhook's messages and statuses; returns how many messages were new.

        Runs on the webhook's request, before the acknowledgement: once this returns, every
        message is on disk. The server loop only awaits (the database writer does the work).
        """
        new = 0
        stored = await asyncio.gather(*(self.inbox.accept_async(m) for m in batch.messages))
        for message, item in zip(batch.messages, stored, strict=True):
            if item is None:
                logger.info(
                    "connectors.inbox.duplicate channel=%s sender=%s",
                    message.channel,
                    sender_ref(message.conversation_id),
                )
                continue
            new += 1
            self.notify(message.conversation_id)
            if self._started:
                self.dispatcher.wake(message.conversation_id)
        for update in batch.statuses:
            await asyncio.to_thread(self.outbox.apply_status, update)
        for kind in batch.ignored:
            logger.info("connectors.webhook.ignored type=%s", kind)
        return new

    async def _process(self, item: InboxItem) -> None:
        """One turn: the customer's message through the bot (runs on the bot loop)."""
        message = item.message
        registration = self._channels.get(message.channel)
        if registration is None or (self._bot_ready is not None and not self._bot_ready()):
            raise Retry("bot not ready")
        channel = registration.channel
        output = channel.output(reply_to=item.id)
        profile_id = await asyncio.to_thread(self.customers.record_inbound, message)
        if any(media.stored_name is None and media.refused is None for media in message.media):
            message = await store_inbound_media(
                message, channel.sender, self.media_store, self.media_limits
            )
            await asyncio.to_thread(self.inbox.update_message, item.id, message)
        refused = [media.refused for media in message.media if media.refused]
        if refused:
            await output.say(message.conversation_id, self._media_refusal(refused[0]))
            if not message.text.strip() and len(refused) == len(message.media):
                return  # nothing left for the bot: the refusal was the answer
        message = await self._resolve_buttons(message)
        await channel.sender.before_turn(message)
        held_by_people = await self._with_people(message.conversation_id)
        user_message = UserMessage(
            text=message.nlu_text(),
            output_channel=output,
            sender_id=message.conversation_id,
            input_channel=channel.name(),
            message_id=message.provider_id,
            metadata=metadata_for(message, profile_id),
        )
        errors: list[str] = []
        watching = _TURN_ERRORS.set(errors)
        try:
            await registration.on_new_message(user_message)
        except Exception as error:
            logger.exception(
                "connectors.turn.failed channel=%s sender=%s attempt=%d error=%s",
                message.channel,
                sender_ref(message.conversation_id),
                item.attempts,
                type(error).__name__,
            )
            if item.attempts < MAX_ATTEMPTS:
                raise Retry(type(error).__name__) from error
            if not await self._escalate(message, output, "turn_failed"):
                await output.say(message.conversation_id, SORRY_BOT_ERROR)
            raise Failed(f"bot: {type(error).__name__}") from error
        finally:
            _TURN_ERRORS.reset(watching)
        if errors and not held_by_people:
            # Rasa logs an action that failed (the action server down or raising) and goes on
            # with a fallback: the customer would get "sorry, I don't know" and nothing else.
            logger.warning(
                "connectors.turn.bot_error channel=%s sender=%s errors=%d",
                message.channel,
                sender_ref(message.conversation_id),
                len(errors),
            )
            await self._escalate(message, output, "action_failed")
        elif output.responses == 0 and not held_by_people:
            # The bot answers every message: silence means it failed without raising (Rasa
            # swallows action-server errors). The customer must not be left waiting unseen.
            logger.warning(
                "connectors.turn.silent channel=%s sender=%s",
                message.channel,
                sender_ref(message.conversation_id),
            )
            await self._escalate(message, output, "silent_turn")

    async def _with_people(self, conversation_id: str) -> bool:
        """Whether people own the conversation now (the bot must stay silent)."""
        if self.with_people is None:
            return False
        return await asyncio.to_thread(self.with_people, conversation_id)

    async def _escalate(self, message: InboundMessage, output: HiloOutput, why: str) -> bool:
        """Hands the conversation to people after a bot failure; False if nobody can take it."""
        if self.escalate is None:
            return False
        try:
            return await self.escalate(message, output, why)
        except Exception as error:
            logger.exception("connectors.escalation.failed error=%s", type(error).__name__)
            return False

    def _media_refusal(self, reason: str) -> str:
        limit = max(1, self.media_limits.max_bytes // (1024 * 1024))
        return SORRY_MEDIA.get(reason, SORRY_MEDIA["download"]).format(limit=limit)

    async def _resolve_buttons(self, message: InboundMessage) -> InboundMessage:
        """A typed "2" or a button's title becomes that button's payload.

        Taps on buttons whose payload was too long for the channel (Telegram: 64 bytes) carry
        `#<n>` instead (see `button_key`), resolved here to the n-th offered button.
        """
        if message.kind is Kind.BUTTON and message.payload and BUTTON_KEY.match(message.payload):
            offered, _ = await asyncio.to_thread(
                self.customers.offered_buttons, message.conversation_id
            )
            index = int(message.payload[1:]) - 1
            if 0 <= index < len(offered):
                return replace(message, payload=offered[index].payload)
            return replace(message, kind=Kind.TEXT, payload=None)  # a stale keyboard: its words
        if message.kind is not Kind.TEXT or not message.text.strip():
            return message
        offered, numbered = await asyncio.to_thread(
            self.customers.offered_buttons, message.conversation_id
        )
        chosen = match_button(message.text, offered, numbered_list=numbered) if offered else None
        if chosen is None:
            return message
        return replace(message, kind=Kind.BUTTON, payload=chosen.payload)

    # --- outbound ---------------------------------------------------------------------

    async def deliver(
        self,
        sender: ChannelSender,
        conversation_id: str,
        parts: list[OutboundPart],
        *,
        source: str,
        reply_to: int | None,
        next_seq: Callable[[], int | None],
        author: str | None = None,
    ) -> None:
        """Sends a response's parts, window permitting; every part ends up recorded.

        While people own the conversation, the bot's own messages are recorded as held back
        and not sent (Rasa still runs slot mappings on a paused conversation, and anything
        they say would reach the customer); agents' and Hilo's own messages go out.
        """
        if source == "bot" and await self._with_people(conversation_id):
            for part in parts:
                record = await asyncio.to_thread(
                    self.outbox.begin,
                    channel=sender.channel,
                    conversation_id=conversation_id,
                    part=part,
                    source=source,
                    reply_to=reply_to,
                    seq=next_seq(),
                )
                if record is not None:
                    await asyncio.to_thread(
                        self.outbox.failed, record.id, "held", "a person owns this conversation"
                    )
            return
        last_inbound = await asyncio.to_thread(self.customers.last_inbound_at, conversation_id)
        decision = decide(
            sender.window_for(conversation_id),
            last_inbound,
            time.time(),
            from_agent=source == "agent",
            template_configured=sender.template_configured(conversation_id),
        )
        for part in parts:
            if not decision.send or decision.template:
                record = await asyncio.to_thread(
                    self.outbox.begin,
                    channel=sender.channel,
                    conversation_id=conversation_id,
                    part=part,
                    source=source,
                    reply_to=reply_to,
                    seq=next_seq(),
                    author=author,
                )
                if record is not None:
                    await asyncio.to_thread(
                        self.outbox.failed, record.id, "window_closed", decision.reason or ""
                    )
                logger.warning(
                    "connectors.send.window_closed channel=%s sender=%s template=%s",
                    sender.channel,
                    sender_ref(conversation_id),
                    decision.template,
                )
                continue
            if decision.tag_human_agent:
                part = replace(part, tag_human_agent=True)
            for piece in split_part(part, sender.text_limit, _buttons_text_limit(sender, part)):
                await self._send_one(
                    sender, conversation_id, piece, source, reply_to, next_seq(), author
                )
        if decision.template and parts:
            already = await asyncio.to_thread(
                self.outbox.template_sent_since, conversation_id, last_inbound or 0.0
            )
            if not already:
                template = OutboundPart(template=True)
                await self._send_one(sender, conversation_id, template, "system", reply_to, None)

    async def _send_one(
        self,
        sender: ChannelSender,
        conversation_id: str,
        part: OutboundPart,
        source: str,
        reply_to: int | None,
        seq: int | None,
        author: str | None = None,
    ) -> None:
        record = await asyncio.to_thread(
            self.outbox.begin,
            channel=sender.channel,
            conversation_id=conversation_id,
            part=part,
            source=source,
            reply_to=reply_to,
            seq=seq,
            author=author,
        )
        if record is None:
            return  # sent before a crash; processing again must not send it twice
        error: SendError | None = None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                provider_id = await sender.send(conversation_id, part)
            except SendError as failure:
                error = failure
                if failure.retryable and attempt < SEND_ATTEMPTS:
                    wait = failure.retry_after
                    await asyncio.sleep(min(0.5 * 2**attempt if wait is None else wait, 10.0))
                    continue
                break
            except Exception as failure:  # a bug in an adapter: record it, do not crash the turn
                logger.exception("connectors.send.crashed channel=%s", sender.channel)
                error = SendError("internal", type(failure).__name__)
                break
            await asyncio.to_thread(self.outbox.sent, record.id, provider_id)
            error = None
            break
        if error is not None:
            await asyncio.to_thread(self.outbox.failed, record.id, error.code, error.message)
            logger.warning(
                "connectors.send.failed channel=%s sender=%s code=%s",
                sender.channel,
                sender_ref(conversation_id),
                error.code,
            )
        if part.text or part.buttons:
            await asyncio.to_thread(
                self.customers.offer_buttons,
                conversation_id,
                part.buttons,
                numbered=bool(part.buttons) and sender.numbered_buttons(part),
            )
        self.notify(conversation_id)

    # --- watching a conversation (the sandbox page; later the desk) -------------------

    def watch(self, conversation_id: str) -> asyncio.Event:
        """An event set whenever the conversation gets a message (either direction)."""
        event = asyncio.Event()
        with self._listeners_lock:
            self._listeners.setdefault(conversation_id, set()).add(
                (asyncio.get_running_loop(), event)
            )
        return event

    def unwatch(self, conversation_id: str, event: asyncio.Event) -> None:
        """Stops notifying `event`."""
        with self._listeners_lock:
            watchers = self._listeners.get(conversation_id, set())
            watchers.difference_update({item for item in watchers if item[1] is event})
            if not watchers:
                self._listeners.pop(conversation_id, None)

    def notify(self, conversation_id: str) -> None:
        """Wakes whoever watches the conversation, on their own loop (any thread)."""
        with self._listeners_lock:
            watchers = list(self._listeners.get(conversation_id, ()))
        for loop, event in watchers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


def _author(message: dict[str, Any]) -> str | None:
    name = message.get("agent_name") or message.get("agent_id")
    return str(name)[:120] if name else None


# The errors Rasa logged during the current turn (None outside a turn). Each turn runs in its
# own task, so the context variable is the turn's own.
_TURN_ERRORS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "hilo_turn_errors", default=None
)
# What Rasa 3.6 logs, at ERROR, when an action fails and it carries on without its events.
_ACTION_FAILURES = ("Encountered an exception while running action", "Failed to run custom action")


class _RasaErrorWatch(logging.Handler):
    """Notes, for the turn in progress, that an action failed (Rasa only logs it)."""

    def emit(self, record: logging.LogRecord) -> None:
        errors = _TURN_ERRORS.get()
        if errors is not None and str(record.msg).startswith(_ACTION_FAILURES):
            errors.append(record.name)


_WATCH = _RasaErrorWatch(level=logging.ERROR)


def _watch_rasa_errors() -> None:
    for name in ("rasa.core.processor", "rasa.core.actions.action"):
        rasa_logger = logging.getLogger(name)
        if _WATCH not in rasa_logger.handlers:
            rasa_logger.addHandler(_WATCH)


def message_source(message: dict[str, Any]) -> str:
    """Who a Rasa response is from: "agent", "handoff" or "system" when it says so, else "bot".

    Agents' messages come through Rasa's HTTP API with `source` (or an `agent_id`) in their
    metadata; the handoff action marks its promise `source: handoff`.
    """
    declared = message.get("source")
    if declared in ("agent", "handoff", "system"):
        return str(declared)
    return "agent" if message.get("agent_id") else "bot"


def _buttons_text_limit(sender: ChannelSender, part: OutboundPart) -> int | None:
    """How long the text that carries `part`'s buttons may be on this channel.

    A numbered list is part of the text, so it takes its room from the channel's limit.
    """
    limits = [sender.buttons_text_limit or sender.text_limit]
    if part.buttons and sender.numbered_buttons(part):
        choices = len(numbered("", part.buttons)) + 2
        limits.append(max(sender.text_limit - choices, sender.text_limit // 4))
    return min(limits)


def metadata_for(message: InboundMessage, profile_id: int) -> dict[str, Any]:
    """What Rasa stores on the user event: the desk shows media, locations and who wrote."""
    metadata: dict[str, Any] = {
        "channel": message.channel,
        "kind": message.kind.value,
        "provider_message_id": message.provider_id,
        "profile_id": profile_id,
    }
    if message.display_name:
        metadata["display_name"] = message.display_name
    if message.media:
        metadata["media"] = [
            {
                "url": media.stored_url,
                "name": media.stored_name,
                "content_type": media.content_type,
                "filename": media.filename,
                "size": media.size,
                "refused": media.refused,
            }
            for media in message.media
        ]
    if message.location is not None:
        metadata["location"] = {
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
            "name": message.location.name,
            "address": message.location.address,
        }
    if message.reply_to:
        metadata["reply_to"] = message.reply_to
    if message.edited:
        metadata["edited"] = True
    if message.text and message.kind is not Kind.TEXT:
        metadata["caption"] = message.text
    return metadata


_default_hub: ChannelHub | None = None
_default_lock = threading.Lock()


def default_hub() -> ChannelHub:
    """The process's hub (one per Rasa server), made on first use."""
    global _default_hub
    with _default_lock:
        if _default_hub is None:
            _default_hub = ChannelHub()
        return _default_hub


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


class HiloInput(InputChannel):
    """A channel's webhook over the shared core; subclasses verify and parse.

    Mounted by Rasa at `/webhooks/<name>/` from credentials.yml, with `GET /` (health) and
    `POST /webhook`. A subclass sets `channel`, `output_class` and `settings_class`, builds its
    `sender`, and implements `verify` and `parse`; `extra_routes` adds provider-specific routes
    (the Meta handshake, Twilio's status callbacks, the sandbox page).
    """

    channel: ClassVar[str] = "hilo"
    output_class: ClassVar[type[HiloOutput]] = HiloOutput

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

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
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
        if len(request.body or b"") > self.max_body_bytes:
            return response.json({"error": "body too large"}, status=413)
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
        await self.hub.accept(batch)
        return self.acknowledge(batch)

    def not_configured(self) -> HTTPResponse:
        """503 naming what to set (never the values)."""
        return response.json(
            {"error": f"{self.name()} is not configured", "set": self.missing}, status=503
        )
