"""The conversation's language: set by the first clear message, changed only by a clear switch.

Runs as the custom slot mapping of `language` (domain.yml), i.e. on every user message. The
NLU pipeline scores each message (components/language.py: words only one language uses).
The conversation keeps its language when the message is

- an answer to a data question (a name, a street, an email, "mercado pago"): "María
  Guadalupe Hernández" in an English conversation is a name, not a switch;
- short small talk ("gracias", "bye", "ok", "adiós"): a one-word goodbye is not a switch;
- weak evidence: after the first clear message, switching takes a sentence (at least
  SWITCH_MIN points for the new language and a lead of SWITCH_LEAD over the old one).

Before any clear message the first one that leans either way sets it ("r u a robot?").
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

LANGUAGE_SLOT = "language"
SEEN_SLOT = "language_seen"
SUPPORTED = ("es", "en")
SWITCH_MIN = 3.0
SWITCH_LEAD = 2.0
# Questions whose answers are data, whatever language the data is in.
DATA_SLOTS = frozenset(
    {"order_id", "order_verification", "product", "product_size", "product_colour"}
    | {"quantity", "customer_name", "delivery_street", "delivery_city", "delivery_postal_code"}
    | {"contact", "delivery_option", "pickup_store", "payment_method", "change_item"}
    | {"change_new_variant"}
)
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
SMALL_TALK_WORDS = 3


def conversation_language(tracker: Tracker) -> str | None:
    """The language the conversation should switch to after this message, or None to keep."""
    message = tracker.latest_message or {}
    detected = message.get(LANGUAGE_SLOT)
    current = tracker.get_slot(LANGUAGE_SLOT)
    if detected not in SUPPORTED or detected == current:
        return None
    scores = message.get("language_scores") or {}
    other = "en" if detected == "es" else "es"
    points, lead = (
        float(scores.get(detected, 1.0)),
        float(scores.get(detected, 1.0)) - float(scores.get(other, 0.0)),
    )
    if not tracker.get_slot(SEEN_SLOT):
        return str(detected)
    if tracker.get_slot("requested_slot") in DATA_SLOTS:
        return None
    intent = (message.get("intent") or {}).get("name")
    words = len(str(message.get("text") or "").split())
    if intent in SMALL_TALK and words <= SMALL_TALK_WORDS:
        return None
    if points >= SWITCH_MIN and lead >= SWITCH_LEAD:
        return str(detected)
    return None


class ActionDetectLanguage(Action):
    """Sets `language` when the customer clearly writes in the other language."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """A SlotSet when the language changes; the first clear message marks it as seen."""
        events: list[EventType] = []
        switch = conversation_language(tracker)
        if switch is not None:
            events.append(SlotSet(LANGUAGE_SLOT, switch))
        detected = (tracker.latest_message or {}).get(LANGUAGE_SLOT)
        if detected in SUPPORTED and not tracker.get_slot(SEEN_SLOT):
            events.append(SlotSet(SEEN_SLOT, True))
        return events
