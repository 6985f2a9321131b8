"""Hand the conversation to a person: open the case, pause the bot, say honestly when.

This is the single place where the bot asks for a human. It works out why (the
`handoff_reason` slot), parks the conversation through the handoff module (a case with the
collected slots, files and a summary, given to an agent with room if there is one), tells
the customer when a person will answer ("Un agente te responde hoy antes de las 17:00",
from business hours, the SLA and the queue), and pauses the conversation: from here the bot
stays silent until an agent hands it back (handoff/desk).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.language import asked_language
from actions.orders.common import language
from actions.replies import asks_for_person
from handoff.case import Reason
from handoff.ownership import REASON_SLOT, hand_to_people
from handoff.service import Handoff

# Messages of the handoff itself: the channel lets them through while people own the thread
# (bot messages are held back then, see connectors/core.py).
SOURCE = "handoff"
# Response placeholders this action fills (tests/unit/store/test_facts.py checks them).
FILLED_PLACEHOLDERS = frozenset({"when"})

# Why the customer needs a person, by the intent that led here.
REASON_BY_INTENT = {
    "human_handoff": "customer_asked",
    "complaint": "complaint",
    "payment_issue": "payment_problem",
    "account_help": "account_help",
    # The order flows (actions/orders/) set their own reason when they hand over.
}
# "Yes" to an offer of a person: the reason is why the bot offered, i.e. its last action.
REASON_BY_OFFER = {
    # The bot failed to understand twice (data/rules/fallback.yml).
    "utter_offer_human": "repeated_fallback",
    # Three failed ownership checks in the order lookup (actions/orders/status.py).
    "action_order_status": "failed_verification",
    "action_cancel_order": "failed_verification",
    "action_create_return": "failed_verification",
    "action_send_invoice": "failed_verification",
    "action_change_order": "failed_verification",
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


def reason_set_this_turn(tracker: Tracker) -> str | None:
    """A reason a flow set since the latest customer message (e.g. a damaged item)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return None
        if event.get("event") == "slot" and event.get("name") == REASON_SLOT and event.get("value"):
            return str(event["value"])
    return None


def earlier_request_intent(tracker: Tracker) -> str | None:
    """The latest intent of the conversation that names a reason (the request being served).

    "no", "ok" or an order number on their own say nothing about why a person is needed;
    the request they answer does ("me cobraron dos veces" ... "no tengo el número").
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in REASON_BY_INTENT and intent != "human_handoff":
                return str(intent)
    return None


def handoff_reason(tracker: Tracker) -> str:
    """Why the customer needs a person, most specific first.

    A reason a flow set in this turn; "yes" to an offer of a person (why the bot offered);
    the latest message's intent; the request the latest message answers; "customer_asked".
    """
    from_flow = reason_set_this_turn(tracker)
    if from_flow:
        return from_flow
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent == "affirm" and last_bot_action(tracker) in REASON_BY_OFFER:
        return REASON_BY_OFFER[last_bot_action(tracker) or ""]
    if intent in REASON_BY_INTENT:
        return REASON_BY_INTENT[intent]
    earlier = earlier_request_intent(tracker)
    return REASON_BY_INTENT[earlier] if earlier else DEFAULT_REASON


class ActionHandoff(Action):
    """Parks the conversation with people and tells the customer when to expect them."""

    def name(self) -> str:
        """Action name used in domain.yml and the rules."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Opens the case, utters the promise, pauses the conversation.

        "can we speak english please" is sometimes classified as a request for a person; a
        language request that names no person is answered in that language instead.
        """
        text = str((tracker.latest_message or {}).get("text") or "")
        if asked_language(text) and not asks_for_person(text):
            dispatcher.utter_message(response="utter_language_switched", source=SOURCE)
            return []
        reason = handoff_reason(tracker)
        parked, events = hand_to_people(
            Handoff.default(),
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "rest",
            reason=Reason.parse(reason),
            language=language(tracker),
            events=tracker.events,
            slots=tracker.slots,
        )
        if reason == "complaint":
            dispatcher.utter_message(response="utter_handoff_sorry", source=SOURCE)
        dispatcher.utter_message(response="utter_handoff_queued", when=parked.when, source=SOURCE)
        if parked.closed_notice:
            dispatcher.utter_message(text=parked.closed_notice, source=SOURCE)
        return events
