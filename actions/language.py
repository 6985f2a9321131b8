"""Keep the `language` slot on the language the customer writes in.

Runs as the custom slot mapping of `language` (domain.yml), i.e. on every user message. The
NLU pipeline already decided ("es", "en" or None: see components/language.py); an undecided
message leaves the slot as it was, so "ok" or an order number never switches the language.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

LANGUAGE_SLOT = "language"
SUPPORTED = ("es", "en")


class ActionDetectLanguage(Action):
    """Sets `language` from the latest message's detected language, when there is one."""

    def name(self) -> str:
        """Action name used in domain.yml."""
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Returns a SlotSet only when the detected language differs from the slot."""
        detected = (tracker.latest_message or {}).get(LANGUAGE_SLOT)
        if detected in SUPPORTED and detected != tracker.get_slot(LANGUAGE_SLOT):
            return [SlotSet(LANGUAGE_SLOT, detected)]
        return []
