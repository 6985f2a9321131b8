"""The shared core of every channel: verify, store, acknowledge; then process and send.

Inbound (`HiloInput`, one subclass per channel):

    webhook ─► verify (403) ─► parse (400) ─► inbox.accept (dedupe) ─► 200
                                                   └─► dispatcher (bot thread, in order per
                                                       conversation): media, profile, buttons,
                                                       Rasa's on_new_message

Outbound (`HiloOutput`, one subclass per channel): a Rasa response becomes parts
(`connectors/render.py`), the messaging window decides what may go (the sender's window
rules: `connectors/registry.py`, `connectors/windows.py`), each part is recorded, sent by the
channel's `ChannelSender` with retries, and marked sent or failed with the provider's error
(`connectors/outbox.py`).

Adapters translate and nothing else (connectors/adapter.py, webhook.py): a `ChannelSender`
knows how to send a part and fetch a file; a `HiloInput` subclass knows how to verify and
parse its provider's webhook. Everything they share (storage, dedupe, ordering, windows, splitting,
retries, media limits, logging without personal data) lives here, once, in `ChannelHub`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from rasa.core.channels.channel import UserMessage
from sqlalchemy.engine import Engine

from connectors.adapter import BUTTON_KEY, Batch, ChannelSender, Mounted, Output, sender_ref
from connectors.customers import Customers
from connectors.dispatcher import Dispatcher, Failed, Retry, Settle
from connectors.errors import SendError
from connectors.inbox import Inbox, InboxItem
from connectors.leases import leases_for
from connectors.media_inbound import store_inbound_media
from connectors.media_store import LocalMediaStore, MediaStore
from connectors.messages import InboundMessage, Kind, OutboundPart
from connectors.outbox import Outbox
from connectors.rasa_errors import watch_turn
from connectors.render import match_button, numbered, split_part
from connectors.settings import MediaLimits
from connectors.storage import Database, make_engine
from hilo.outages import is_outage

__all__ = ["ChannelHub", "default_hub", "metadata_for"]

logger = logging.getLogger(__name__)
# The handoff's fail-safe: (the message, its output channel, why) -> handled.
Escalation = Callable[["InboundMessage", Output, str], Awaitable[bool]]
# The handoff's reader of survey answers: (the message, its output channel) -> kept from the bot.
Intercept = Callable[["InboundMessage", Output], Awaitable[bool]]
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
        "¿Puedes mandarlo más ligero? / Sorry, that file is too large (max {limit} MB)."
    ),
    "type": (
        "Perdón, ese tipo de archivo no lo puedo recibir. Manda una foto, un PDF, un audio o "
        "un video. / Sorry, I can't receive that kind of file: please send a photo, PDF, "
        "audio or video."
    ),
    "download": (
        "Perdón, no pude descargar tu archivo. ¿Puedes mandarlo de nuevo? / Sorry, I couldn't "
        "download your file; could you send it again?"
    ),
}


@dataclass
class _Registration:
    channel: Mounted
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
        turns: bool = True,
    ) -> None:
        """Uses `engine` (default: `CHANNELS_DATABASE_URL` / var/channels.db).

        `turns` False: this process only stores and acknowledges (a webhook intake,
        connectors/intake.py); the replicas' dispatchers take the turns.
        """
        self.turns = turns
        self.engine = engine or make_engine()
        self.database = Database(self.engine)  # one writer for the three stores
        self.inbox = Inbox(self.database)
        self.outbox = Outbox(self.database)
        self.customers = Customers(self.database)
        self.media_store = media_store or LocalMediaStore()
        self.media_limits = media_limits or MediaLimits.from_env()
        self.dispatcher = Dispatcher(
            self.inbox, self._process, concurrency=concurrency, leases=leases_for(self.engine)
        )
        self._channels: dict[str, _Registration] = {}
        self._bot_ready = bot_ready
        # Set by the handoff (handoff/plugin.py); the channels work without it.
        self.with_people: Callable[[str], bool] | None = None
        self.escalate: Escalation | None = None
        self.intercept: Intercept | None = None
        self._started = False
        self._listeners: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners_lock = threading.Lock()

    @property
    def settle(self) -> Settle | None:
        """What runs before a conversation's next turn, under its lease (the hand-back)."""
        return self.dispatcher.settle

    @settle.setter
    def settle(self, settle: Settle | None) -> None:
        self.dispatcher.settle = settle

    # --- life cycle -------------------------------------------------------------------

    def register(
        self, channel: Mounted, on_new_message: Callable[[UserMessage], Awaitable[Any]]
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
        if not self.turns:
            logger.info("connectors.hub.intake channels=%s", ",".join(sorted(self._channels)))
            return
        # The bot thread computes (NLU) while the server loop answers webhooks; CPython hands
        # the GIL to a waiting thread after 5 ms by default, and a webhook waits for it a few
        # times. 1 ms bounds that wait; bench/channels.py measured no cost to throughput (and,
        # since the database writer, no clear gain either: a cheap bound, not the fix).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        # The model and Rasa's objects stay for the life of the process: out of the garbage
        # collector's generations, a full collection no longer walks them (it stalled every
        # thread, webhooks included, under load). Freezing is a list splice; a collection
        # first would block the server loop while the first webhooks after a restart wait.
        gc.freeze()
        self.dispatcher.start()
        logger.info("connectors.hub.started channels=%s", ",".join(sorted(self._channels)))

    def stop(self) -> None:
        """Finishes running turns; pending messages stay in the inbox for the next start.

        Also wakes every watcher (the sandbox page's stream), which ends once it sees the hub
        stopped: the server otherwise waits out its graceful-shutdown time for open streams.
        """
        if self._started:
            self._started = False
            if self.turns:
                self.dispatcher.stop()
        with self._listeners_lock:
            watchers = [watcher for group in self._listeners.values() for watcher in group]
        for loop, event in watchers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    @property
    def stopped(self) -> bool:
        """Whether the hub is not (or no longer) running."""
        return not self._started

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
            if self._started and self.turns:
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
        if await self._intercepted(message, output):
            return  # an answer to the handoff's survey (handoff/csat.py), not for the bot
        held_by_people = await self._with_people(message.conversation_id)
        user_message = UserMessage(
            text=message.nlu_text(),
            output_channel=output,
            sender_id=message.conversation_id,
            input_channel=channel.name(),
            message_id=message.provider_id,
            metadata=metadata_for(message, profile_id),
        )
        with watch_turn() as errors:
            try:
                await registration.on_new_message(user_message)
            except Exception as error:
                if is_outage(error):  # PostgreSQL or Redis is down: wait for it, however long
                    logger.warning(
                        "connectors.turn.service_down channel=%s sender=%s error=%s",
                        message.channel,
                        sender_ref(message.conversation_id),
                        type(error).__name__,
                    )
                    raise Retry(f"service down: {type(error).__name__}") from error
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

    async def _intercepted(self, message: InboundMessage, output: Output) -> bool:
        """Whether the handoff kept the message (a survey's answer); never fails the turn."""
        if self.intercept is None:
            return False
        try:
            return await self.intercept(message, output)
        except Exception as error:  # the handoff database is down: the bot still answers
            logger.warning(
                "connectors.intercept.failed sender=%s error=%s",
                sender_ref(message.conversation_id),
                type(error).__name__,
            )
            return False

    def sender_for(self, channel: str) -> ChannelSender | None:
        """The sender of a channel mounted on this hub; None if there is none (REST).

        For messages that answer no customer message (the handoff's survey).
        """
        registration = self._channels.get(channel)
        return None if registration is None else registration.channel.sender

    async def _escalate(self, message: InboundMessage, output: Output, why: str) -> bool:
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

        def refuse(part: OutboundPart, code: str, reason: str) -> None:
            """Records a part that is not sent, and why (the desk shows it)."""
            record = self.outbox.begin(
                channel=sender.channel,
                conversation_id=conversation_id,
                part=part,
                source=source,
                reply_to=reply_to,
                seq=next_seq(),
                author=author,
            )
            if record is not None:
                self.outbox.failed(record.id, code, reason)

        if source == "bot" and await self._with_people(conversation_id):
            for part in parts:
                await asyncio.to_thread(refuse, part, "held", "a person owns this conversation")
            return
        last_inbound = await asyncio.to_thread(self.customers.last_inbound_at, conversation_id)
        decision = sender.window_rules(conversation_id).decide(
            last_inbound, time.time(), from_agent=source == "agent"
        )
        for part in parts:
            if not decision.send or decision.template:
                await asyncio.to_thread(refuse, part, "window_closed", decision.reason or "")
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


def use_intake_hub() -> ChannelHub:
    """Makes the process's hub one that stores and acknowledges only (connectors/intake.py).

    Called before any channel is built; a process that already has a hub keeps it, since
    its channels already store into it.
    """
    global _default_hub
    with _default_lock:
        if _default_hub is None:
            _default_hub = ChannelHub(turns=False)
        if _default_hub.turns:
            raise RuntimeError("this process already has a hub that takes turns")
        return _default_hub
