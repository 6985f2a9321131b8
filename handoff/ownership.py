"""Who owns a conversation, the bot or people, and the two moves between them.

Ownership is what the customer experiences: while people own a thread the bot stays silent;
once it is handed back, the bot answers the next message. It is kept apart from where the
case is in its life (queued, assigned, resolved: handoff/case.py) and is made of two things
that must agree, the case and Rasa's tracker (paused, `handoff_active`). This module is the
one place that says what each move writes:

- `hand_to_people()`: parks the case (handoff/service.py `Handoff.park`: the case with what
  the bot collected, and the promise) and returns the tracker events that go with it
  (`to_people_events`), which the bot's handoff action returns to Rasa (actions/handoff.py)
  and the fail-safe applies under the conversation's lock (handoff/plugin.py);
- `HandBack`: the way back, run **inside the Rasa server** as soon as an agent resolves the
  case, not by the desk. A background task finds resolved cases within a fraction of a
  second (so it works with no desk running) and wakes their conversations' lanes; the
  channels dispatcher settles a conversation's pending hand-back under its lease before it
  processes that conversation's next message (so a message sent right after "resolve" is
  answered by the bot, in order, never by nobody, and on several replicas exactly one does
  the hand-back).

A hand-back is safe to retry and to crash in the middle of: the tracker events are applied
under the conversation's lock only if the tracker is still with people, and the case moves
to `bot` afterwards (a second attempt finds the tracker done and only moves the case).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from rasa_sdk.events import ActionExecuted, ConversationPaused, ConversationResumed, SlotSet

from connectors.adapter import sender_ref
from handoff.case import Case, InvalidTransition, Reason, Status
from handoff.service import Handoff, Parked
from handoff.store import CaseStore, Conflict

logger = logging.getLogger(__name__)

REASON_SLOT = "handoff_reason"
ACTIVE_SLOT = "handoff_active"
CASE_SLOT = "handoff_case_id"
OUTCOME_SLOT = "handoff_outcome"
SWEEP_SECONDS = 0.2


def hand_to_people(
    handoff: Handoff,
    *,
    conversation_id: str,
    channel: str,
    reason: Reason,
    language: str,
    events: Iterable[dict[str, Any]],
    slots: dict[str, Any],
) -> tuple[Parked, list[dict[str, Any]]]:
    """The case parked with people, and the tracker events that silence the bot."""
    parked = handoff.park(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        language=language,
        events=events,
        slots={**slots, REASON_SLOT: reason.value},
    )
    return parked, to_people_events(parked.case.id, reason.value)


def to_people_events(case_id: int, reason: str) -> list[dict[str, Any]]:
    """The tracker events that give the conversation to people (after the case is parked)."""
    return [
        SlotSet(REASON_SLOT, reason),
        SlotSet(ACTIVE_SLOT, True),
        SlotSet(CASE_SLOT, str(case_id)),
        ConversationPaused(),
    ]


def to_bot_events(corrections: dict[str, Any], outcome: str | None) -> list[dict[str, Any]]:
    """The tracker events that give the conversation back to the bot, knowing what was settled.

    The corrections are the agent's (only `CORRECTABLE_SLOTS`, checked where they are stored).
    The pause stopped the turn before its `action_listen`, and the customer's messages since
    had no turns: without one, the policies see "action_handoff, then a question", match no
    rule, and fall back.
    """
    return [
        *(SlotSet(name, value) for name, value in corrections.items()),
        SlotSet(ACTIVE_SLOT, False),
        SlotSet(OUTCOME_SLOT, outcome),
        ConversationResumed(),
        ActionExecuted("action_listen"),
    ]


def rasa_events(events: list[dict[str, Any]]) -> list[Any]:
    """The same events as Rasa's own classes (for code running inside the Rasa server)."""
    from rasa.shared.core.events import Event

    return [Event.from_parameters(event) for event in events]


class HandBack:
    """Resolved cases back to the bot, inside the Rasa server (see the module docstring)."""

    def __init__(
        self, store: CaseStore, agent: Callable[[], Any], wake: Callable[[str], None]
    ) -> None:
        """`agent()`: the Rasa server's agent, or None yet; `wake(conversation)`: its lane.

        The agent gives the tracker and lock stores; the lane is the channels dispatcher's.
        """
        self.store = store
        self._agent = agent
        self._wake = wake

    async def hand_back(self, case: Case) -> bool:
        """Gives `case`'s conversation back to the bot; False if Rasa is not ready yet."""
        agent = self._agent()
        if agent is None:
            return False
        conversation = case.conversation_id
        async with agent.lock_store.lock(conversation):
            tracker = await agent.tracker_store.get_or_create_tracker(conversation)
            if tracker.is_paused() or tracker.get_slot(ACTIVE_SLOT):
                for event in rasa_events(to_bot_events(case.corrections, case.outcome)):
                    tracker.update(event)
                await agent.tracker_store.save(tracker)
        with contextlib.suppress(Conflict, InvalidTransition):  # another process was first
            await asyncio.to_thread(self.store.back_to_bot, case.id)
        logger.info("handoff.hand_back case=%d sender=%s", case.id, sender_ref(conversation))
        return True

    async def settle(self, conversation_id: str) -> None:
        """Before a customer's message: a resolved case of the conversation is handed back."""
        case = await asyncio.to_thread(self.store.with_people, conversation_id)
        if case is not None and case.status is Status.RESOLVED:
            await self.hand_back(case)

    async def sweep(self) -> int:
        """Asks for the hand-back of every resolved case; how many there were.

        The hand-back itself runs on the conversation's lane, under its lease (`settle`, called
        by the channels dispatcher before a turn), so that on any number of replicas it never
        overlaps a turn of the same conversation and is done once.
        """
        resolved = await asyncio.to_thread(self.store.find, statuses=(Status.RESOLVED,))
        for case in resolved:
            self._wake(case.conversation_id)
        return len(resolved)

    async def run(self) -> None:
        """Sweeps until cancelled (the Rasa server's lifetime)."""
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down: try again
                logger.warning("handoff.sweep_failed error=%s", type(error).__name__)
                await asyncio.sleep(1.0)
            await asyncio.sleep(SWEEP_SECONDS)
