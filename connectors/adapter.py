"""A channel adapter's base: what each channel implements, with no knowledge of the hub.

The channels core is layered so that imports flow one way:
adapter base (this module) → hub (connectors/core.py) → webhook input and output
(connectors/webhook.py) → one module per channel (whatsapp.py, twilio.py, …).

- `ChannelSender`: a channel's outbound half: send one part, fetch one customer file. It is
  built on its channel's rules (connectors/registry.py): which messaging window applies and
  whether its settings name a re-engagement template. The hub asks the sender; the desk asks
  the same rules through the registry; neither knows them itself.
- `Batch`: what one webhook delivery carried.
- `Output`, `Mounted`: what the hub needs of an output channel and of a mounted channel
  (connectors/webhook.py implements both).
"""

from __future__ import annotations

import asyncio
import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

from connectors.errors import MediaError
from connectors.messages import InboundMessage, MediaRef, OutboundPart, StatusUpdate
from connectors.registry import ChannelRules
from connectors.settings import ChannelSettings
from connectors.windows import WindowRules
from hilo.pseudonyms import pseudonym

T = TypeVar("T")


BUTTON_KEY = re.compile(r"^#\d{1,2}$")


def button_key(index: int) -> str:
    """What a channel sends as a button's id when the payload is too long for it (1-based)."""
    return f"#{index}"


def sender_ref(conversation_id: str) -> str:
    """A stable pseudonym for logs: conversation ids contain phone numbers.

    Keyed (hilo/pseudonyms.py): a plain hash of a phone number is reversed by hashing every
    number of the country.
    """
    return pseudonym(conversation_id, 12)


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


class ChannelSender(ChannelRules, ABC):
    """The adapter's outbound half: send one part, fetch one customer file.

    A channel's sender subclasses its rules class too (`WhatsAppSender(WhatsAppRules,
    ChannelSender)`), so `channel` and `window_for` come from there.
    """

    text_limit: ClassVar[int] = 4096
    buttons_text_limit: ClassVar[int | None] = None  # text with buttons, when shorter
    settings: ChannelSettings | None = None  # the adapter's credentials, when it has any

    def window_rules(self, conversation_id: str) -> WindowRules:
        """This conversation's window, and whether this adapter's settings name a template."""
        return self.rules_for(conversation_id, self.settings)

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


class Output(Protocol):
    """Where a turn's replies go (connectors/webhook.py `HiloOutput`)."""

    responses: int

    async def say(self, conversation_id: str, text: str) -> None:
        """A message from Hilo itself, not from the bot's domain."""


class Mounted(Protocol):
    """A channel mounted on the hub (connectors/webhook.py `HiloInput`)."""

    sender: ChannelSender

    def name(self) -> str:
        """The channel's name (the first part of its conversation ids)."""

    def output(self, reply_to: int | None = None) -> Output:
        """An output for the replies to inbox message `reply_to`."""
