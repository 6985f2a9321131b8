"""A new session keeps a handed-off conversation with people.

Stock Rasa resets the tracker when a session expires (an hour after the customer's last
message) and that reset un-pauses it: a customer writing the next morning to a conversation
an agent owns would get the bot (`../shared/reference/rasa-3.6-notes.md` §2.3). This
replaces `action_session_start`: the slots carry over as before, and a conversation that was
paused, or whose `handoff_active` slot is set, is paused again right after the new session
starts.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handoff.ownership import ACTIVE_SLOT


class ActionSessionStart(Action):
    """Starts a session: carry the slots over, keep a paused conversation paused."""

    def name(self) -> str:
        """Rasa runs the action of this name at every session start."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """`tracker` is the conversation before the reset: its slots and pause still hold."""
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in tracker.slots.items()]
        if tracker.is_paused() or tracker.get_slot(ACTIVE_SLOT):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events
