"""Hand the conversation to a person: record why, and tell the customer honestly.

This is the single place where the bot asks for a human. It records the reason in the
`handoff_reason` slot (the desk shows it, and the bot's collected data stays in the other
slots) and tells the customer a person will answer in this chat during support hours.
Parking the conversation in the human queue (pause, case, desk, expected reply time) is the
handoff module's job and plugs in here.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

REASON_SLOT = "handoff_reason"

# Why the customer needs a person, by the intent that led here.
REASON_BY_INTENT = {
    "human_handoff": "customer_asked",
    "complaint": "complaint",
    "payment_issue": "payment_problem",
    "account_help": "account_help",
    # The order flows are not automated yet; a person takes these.
    "order_status": "order_request",
    "place_order": "order_request",
    "cancel_order": "order_request",
    "change_order": "order_request",
    "return_request": "order_request",
    "invoice_request": "order_request",
    # "Yes" to the bot's offer of a person after it failed to understand twice.
    "affirm": "repeated_fallback",
}
DEFAULT_REASON = "customer_asked"


def handoff_reason(tracker: Tracker) -> str:
    """The reason for this handoff, from the intent of the latest message."""
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return REASON_BY_INTENT.get(intent or "", DEFAULT_REASON)


class ActionHandoff(Action):
    """Records the handoff reason and tells the customer a person will take over."""

    def name(self) -> str:
        """Action name used in domain.yml and the rules."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Utters the handoff notice and sets `handoff_reason`."""
        dispatcher.utter_message(response="utter_handoff_requested")
        return [SlotSet(REASON_SLOT, handoff_reason(tracker))]
