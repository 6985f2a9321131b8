"""The conversation's language: set by the first clear message, changed only by a clear switch.

Runs as the custom slot mapping of `language` (domain.yml), i.e. on every user message. The
NLU pipeline scores each message (components/language.py: words only one language uses).
The conversation keeps its language when the message is

- an answer to a data question (a name, a street, an email, "mercado pago"): "María
  Guadalupe Hernández" in an English conversation is a name, not a switch;
- short small talk ("gracias", "bye", "ok", "adiós"): a one-word goodbye is not a switch;
- weak evidence: after the first clear message, switching takes a sentence (at least
  SWITCH_MIN points for the new language and a lead of SWITCH_LEAD over the old one).

Before any clear message the first one that leans either way sets it ("r u a robot?"). Asking
for a language ("can we continue in English?", "en español porfa") switches at once.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import fold

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
# A sentence, not data, answered to a data question: clearly the other language.
DATA_SWITCH_MIN = 5.0
# Asking for a language switches at once, whatever else the message says.
_ASKED = {
    "en": re.compile(
        r"\b(in english|english please|(you|we|lets|let s) (speak|talk|write|continue|switch)"
        r"( to| in)? english|en ingles|habla(s|r)? ingles)\b"
    ),
    "es": re.compile(
        r"\b(en espanol|en castellano|in spanish|spanish please|(you|we|lets|let s) (speak"
        r"|talk|write|continue|switch)( to| in)? spanish|hablas espanol)\b"
    ),
}
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
SMALL_TALK_WORDS = 3


def asked_language(text: str) -> str | None:
    """The language the customer asks the bot to use ("can we continue in English?")."""
    folded = fold(text)
    for language, pattern in _ASKED.items():
        if pattern.search(folded):
            return language
    return None


def conversation_language(tracker: Tracker) -> str | None:
    """The language the conversation should switch to after this message, or None to keep."""
    message = tracker.latest_message or {}
    asked = asked_language(str(message.get("text") or ""))
    current = tracker.get_slot(LANGUAGE_SLOT)
    if asked is not None:
        return asked if asked != current else None
    detected = message.get(LANGUAGE_SLOT)
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
    if tracker.get_slot("requested_slot") in DATA_SLOTS and not (
        points >= DATA_SWITCH_MIN and lead >= DATA_SWITCH_MIN
    ):
        return None
    intent = (message.get("intent") or {}).get("name")
    words = len(str(message.get("text") or "").split())
    if intent in SMALL_TALK and words <= SMALL_TALK_WORDS:
        return None
    if points >= SWITCH_MIN and lead >= SWITCH_LEAD:
        return str(detected)
    return None


class ActionDetectLanguage(Action):
    """Sets `language` when the customer clearly writes in the other language.

    Run inside action_validate_slot_mappings (actions/requests.py) on every message.
    """

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


class ActionOutOfScope(Action):
    """The reply to a message outside what the bot does, unless it asks for a language.

    "perdón, mi inglés no es muy bueno, ¿puedo escribirte en español?" is classified as out
    of scope (it is about neither orders nor the store); the customer asked for something
    the bot does, and `language` has already switched (`conversation_language`): say so.
    """

    def name(self) -> str:
        """Action name used in domain.yml and the rules."""
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """The switch acknowledged, or what the bot can help with."""
        text = str((tracker.latest_message or {}).get("text") or "")
        asked = asked_language(text) is not None
        dispatcher.utter_message(
            response="utter_language_switched" if asked else "utter_out_of_scope"
        )
        return []
