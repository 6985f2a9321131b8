"""Who owns a conversation, the bot or people, and the two moves between them.

Ownership is what the customer experiences: while people own a thread the bot stays silent;
once it is handed back, the bot answers the next message. It is its own record, apart from
where the case is in its life (queued, assigned, resolved, closed: handoff/case.py): one row
per conversation (handoff/ownership_store.py), written by `CaseStore` in the transaction of
the case's move. Two things must agree with it, and this module is the one place that says
what each move writes to them, the case and Rasa's tracker (paused, `handoff_active`):

- `hand_to_people()`: parks the case (handoff/service.py `Handoff.park`: the case with what
  the bot collected, the promise, and the record: people) and returns the tracker events
  that go with it (`to_people_events`), which the bot's handoff action returns to Rasa
  (actions/handoff.py) and the fail-safe applies under the conversation's lock
  (handoff/plugin.py);
- `HandBack`: the way back, run **inside the Rasa server** as soon as an agent resolves the
  case, not by the desk. Resolving leaves the change pending on the record (an outbox of
  one entry per conversation); a background task finds pending hand-backs within a fraction
  of a second (so it works with no desk running) and wakes their conversations' lanes; the
  channels dispatcher settles a conversation's pending hand-back under its lease before it
  processes that conversation's next message (so a message sent right after "resolve" is
  answered by the bot, in order, never by nobody, and on several replicas exactly one does
  the hand-back).

A hand-back is applied idempotently, so it is safe to retry and to crash between its steps.
Under the conversation's lock it reads the record: nothing pending (done already, or a new
handoff cancelled it) → nothing to do; pending → the tracker events, only if the tracker is
still with people, then the record (owner bot, `applied_at`) and the case (`bot`) in one
transaction. A crash after the tracker was saved leaves the record pending: the retry finds
the tracker resumed and only finishes the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa_sdk.events import ActionExecuted, ConversationPaused, ConversationResumed, SlotSet

from connectors.adapter import sender_ref
from handoff.case import Case, Reason
from handoff.service import Handoff, Parked
from handoff.store import CaseStore

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
    """Pending hand-backs applied inside the Rasa server (see the module docstring)."""

    def __init__(
        self,
        store: CaseStore,
        agent: Callable[[], Any],
        wake: Callable[[str], None],
        returned: Callable[[Case], Awaitable[Any]] | None = None,
    ) -> None:
        """`agent()`: the Rasa server's agent, or None yet; `wake(conversation)`: its lane.

        The agent gives the tracker and lock stores; the lane is the channels dispatcher's.
        `returned(case)` runs once the bot has the conversation back, once per case (the
        satisfaction survey, handoff/csat.py); its failure never undoes the hand-back.
        """
        self.store = store
        self._agent = agent
        self._wake = wake
        self._returned = returned

    async def hand_back(self, conversation_id: str) -> bool:
        """Applies the conversation's pending hand-back, if any; False if Rasa is not ready.

        The record is read under the conversation's lock (Rasa's turns and the fail-safe's
        pause take it too) and finished only if this case's hand-back is still pending on
        it: a handoff that came in between keeps the conversation with people.
        """
        agent = self._agent()
        if agent is None:
            return False
        async with agent.lock_store.lock(conversation_id):
            record = await asyncio.to_thread(self.store.ownership, conversation_id)
            if record is None or not record.handing_back:
                return True  # applied already (a retry, another replica), or cancelled
            case = await asyncio.to_thread(self.store.get, record.case_id)
            tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
            if tracker.is_paused() or tracker.get_slot(ACTIVE_SLOT):
                for event in rasa_events(to_bot_events(case.corrections, case.outcome)):
                    tracker.update(event)
                await agent.tracker_store.save(tracker)
            applied = await asyncio.to_thread(self.store.back_to_bot, case.id)
        if applied:
            logger.info("handoff.hand_back case=%d sender=%s", case.id, sender_ref(conversation_id))
            if self._returned is not None:
                try:
                    await self._returned(case)
                except Exception as error:  # the survey is not worth a failed hand-back
                    logger.warning(
                        "handoff.hand_back.after_failed case=%d error=%s",
                        case.id,
                        type(error).__name__,
                    )
        return True

    async def settle(self, conversation_id: str) -> None:
        """Before a customer's message: the conversation's pending hand-back is applied."""
        record = await asyncio.to_thread(self.store.ownership, conversation_id)
        if record is not None and record.handing_back:
            await self.hand_back(conversation_id)

    async def sweep(self) -> int:
        """Asks for every pending hand-back; how many there were.

        The hand-back itself runs on the conversation's lane, under its lease (`settle`, called
        by the channels dispatcher before a turn), so that on any number of replicas it never
        overlaps a turn of the same conversation and is done once.
        """
        pending = await asyncio.to_thread(self.store.pending_hand_backs)
        for record in pending:
            self._wake(record.conversation_id)
        return len(pending)

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
