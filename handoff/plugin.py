"""The handoff inside the Rasa server: silence while people own a thread, and the fail-safe.

Declared in credentials.yml like a channel (`handoff.plugin.HandoffPlugin`), so Rasa loads it
into its server; it receives no messages. It gives the channels core its hooks:

- `with_people(conversation)`: true while people own the conversation (its ownership record,
  handoff/ownership_store.py, until a hand-back is applied). The core then holds back any
  message from the bot (Rasa still runs slot mappings on a paused conversation), while
  agents' and Hilo's own messages go out.
- `settle(conversation)`: before the conversation's next message is processed, a hand-back an
  agent asked for by resolving its case is applied (handoff/ownership.py). A background task
  wakes every pending hand-back's conversation a fraction of a second after the agent
  resolves: the way back to the bot runs here, in the Rasa server, not in the desk.
- `escalate(message, output, why)`: when a turn fails (raised after retries) or the bot stays
  silent on a conversation it owns (Rasa swallows action-server errors), the conversation is
  parked with reason `bot_error`: a case with what the bot had collected, the tracker paused
  under the conversation's lock, and the customer told honestly when a person will answer.
  It does not need the action server, which may be the part that failed.
- `intercept(message, output)`: once the bot has a conversation back, the customer is asked
  how satisfied they were, and their answer is read here before Rasa sees it
  (handoff/csat.py): a score or a comment lands on the case; anything else goes to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from components.tracker_store import WindowedSQLTrackerStore
from connectors.adapter import Output, sender_ref
from connectors.core import ChannelHub, default_hub
from connectors.messages import InboundMessage
from handoff.case import Reason
from handoff.csat import Survey
from handoff.ownership import HandBack, hand_to_people, rasa_events
from handoff.service import Handoff
from handoff.texts import bot_error_notice, csat_follow_up_notice

logger = logging.getLogger(__name__)


class HandoffPlugin(InputChannel):
    """Connects the handoff to the channels core of this Rasa server."""

    def __init__(self, hub: ChannelHub | None = None, handoff: Handoff | None = None) -> None:
        """Uses the process's hub and handoff unless given (tests)."""
        self._hub = hub
        self._handoff = handoff
        self._server: Any = None  # the Rasa app's context (its agent)
        self._hand_backs: HandBack | None = None
        self._survey: Survey | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/handoff/ (a health route only)."""
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> HandoffPlugin:
        """No credentials: the handoff database comes from the environment."""
        return cls()

    @property
    def handoff(self) -> Handoff:
        """The process's handoff (database and support policy), made on first use."""
        if self._handoff is None:
            self._handoff = Handoff.default()
        return self._handoff

    @property
    def hand_backs(self) -> HandBack:
        """The way back to the bot, on this server's agent."""
        if self._hand_backs is None:
            hub = self._hub or default_hub()
            self._hand_backs = HandBack(
                self.handoff.store,
                lambda: getattr(self._server, "agent", None),
                hub.dispatcher.wake,
                returned=self.survey.ask,
            )
        return self._hand_backs

    @property
    def survey(self) -> Survey:
        """The satisfaction survey after a hand-back, on this server's channels."""
        if self._survey is None:
            hub = self._hub or default_hub()
            self._survey = Survey(
                self.handoff.store, hub, classify=self.intent_of, follow_up=self.follow_up
            )
        return self._survey

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Registers the hooks; `GET /` says whether the handoff database answers."""
        hub = self._hub or default_hub()
        hub.with_people = self.with_people
        hub.escalate = self.escalate
        hub.settle = self.settle
        hub.intercept = self.survey.read
        blueprint = Blueprint("hilo_handoff_plugin", __name__)

        @blueprint.listener("before_server_start")
        async def remember_agent(app: Any, _loop: Any) -> None:
            self._server = app.ctx

        @blueprint.listener("after_server_start")
        async def start_hand_backs(_app: Any, _loop: Any) -> None:
            self.record_facts()
            self._sweeper = asyncio.create_task(self.hand_backs.run())

        @blueprint.listener("before_server_stop")
        async def stop_hand_backs(_app: Any, _loop: Any) -> None:
            if self._sweeper is not None:
                self._sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sweeper

        @blueprint.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            try:
                await asyncio.to_thread(self.handoff.store.parked, "health-check")
            except Exception as error:  # the database is down: say so, never crash
                return response.json({"status": "error", "error": type(error).__name__}, 503)
            return response.json({"status": "ok"})

        return blueprint

    def with_people(self, conversation_id: str) -> bool:
        """Whether people own the conversation (blocking; the core threads it)."""
        return self.handoff.store.parked(conversation_id)

    async def intent_of(self, text: str) -> str | None:
        """NLU's intent for `text` (the survey tells a comment from a request); None: no model."""
        agent = getattr(self._server, "agent", None)
        if agent is None or not agent.is_ready():
            return None
        parsed = await agent.parse_message(text)
        return (parsed.get("intent") or {}).get("name")

    async def settle(self, conversation_id: str) -> None:
        """A pending hand-back of the conversation is applied before its next message."""
        self.record_facts()
        await self.hand_backs.settle(conversation_id)

    def record_facts(self) -> None:
        """The agent's tracker store tells the reports' record of every saved turn.

        Checked before each message too: an agent loaded later (a new model) gets a new
        tracker store. Only Hilo's windowed store has the hook; another one records nothing.
        """
        agent = getattr(self._server, "agent", None)
        store = getattr(agent, "tracker_store", None)
        store = getattr(store, "_tracker_store", store)  # Rasa's fail-safe wrapper
        if isinstance(store, WindowedSQLTrackerStore) and store.on_saved is None:
            store.on_saved = self.handoff.facts.record_events

    async def escalate(self, message: InboundMessage, output: Output, why: str) -> bool:
        """Parks the conversation after a bot failure and tells the customer when."""
        parked = await self._park(message, output, Reason.BOT_ERROR, bot_error_notice)
        if parked is not None:
            logger.warning(
                "handoff.failsafe.parked case=%d sender=%s why=%s",
                parked,
                sender_ref(message.conversation_id),
                why,
            )
        return parked is not None

    async def follow_up(self, message: InboundMessage, output: Output) -> bool:
        """A low satisfaction score's comment: a new case (a complaint) and when to expect a person.

        The customer's comment is in the thread the agent opens, the score on the last case.
        """
        parked = await self._park(message, output, Reason.COMPLAINT, csat_follow_up_notice)
        if parked is not None:
            logger.info(
                "handoff.csat.followed_up case=%d sender=%s",
                parked,
                sender_ref(message.conversation_id),
            )
        return parked is not None

    async def _park(
        self,
        message: InboundMessage,
        output: Output,
        reason: Reason,
        notice: Callable[[str, str], str],
    ) -> int | None:
        """Hands the conversation to people from outside a bot turn; the new case's id.

        The bot's tracker learns it as the handoff action would have told it (the same
        events), under the conversation's lock; the customer gets `notice(when, language)`.
        """
        agent = getattr(self._server, "agent", None)
        if agent is None:
            return None
        conversation = message.conversation_id
        tracker = await agent.tracker_store.retrieve(conversation)
        events = [event.as_dict() for event in tracker.events] if tracker else []
        slots = tracker.current_slot_values() if tracker else {}
        language = "en" if slots.get("language") == "en" else "es"
        parked, to_people = await asyncio.to_thread(
            lambda: hand_to_people(
                self.handoff,
                conversation_id=conversation,
                channel=message.channel,
                reason=reason,
                language=language,
                events=events,
                slots=slots,
            )
        )
        async with agent.lock_store.lock(conversation):
            tracker = await agent.tracker_store.get_or_create_tracker(conversation)
            for event in rasa_events(to_people):
                tracker.update(event)
            await agent.tracker_store.save(tracker)
        await output.say(conversation, notice(parked.when, language))
        if parked.closed_notice:
            await output.say(conversation, parked.closed_notice)
        return parked.case.id
