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
    # The order flows not automated yet (order status is: actions/orders/status.py).
    "place_order": "order_request",
    "cancel_order": "order_request",
    "change_order": "order_request",
    "return_request": "order_request",
    "invoice_request": "order_request",
}
# "Yes" to an offer of a person: the reason is why the bot offered, i.e. its last action.
REASON_BY_OFFER = {
    # The bot failed to understand twice (data/rules/fallback.yml).
    "utter_offer_human": "repeated_fallback",
    # Three failed ownership checks in the order lookup (actions/orders/status.py).
    "action_order_status": "failed_verification",
}
DEFAULT_REASON = "customer_asked"


def last_bot_action(tracker: Tracker) -> str | None:
    """The bot's last action before the latest customer message (not action_listen)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action":
            name = event.get("name")
            if name and name != "action_listen":
                return str(name)
    return None


def handoff_reason(tracker: Tracker) -> str:
    """The reason for this handoff: the latest message's intent, or what the bot offered."""
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent == "affirm":
        return REASON_BY_OFFER.get(last_bot_action(tracker) or "", DEFAULT_REASON)
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
