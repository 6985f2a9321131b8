"""The other requests in a message that has several: FAQs answered, other flows announced.

components/requests.py splits "¿a qué hora abren y dónde está mi pedido 10001?" into its
requests and makes the order flow the message's intent. This action runs on every message,
before the bot's reply: it is `action_validate_slot_mappings`, the one action Rasa runs after
reading each message whose messages are sent (custom slot-mapping actions may only set
slots). So the FAQ parts are answered first, in the order they were written, and the flow
then goes on ("para tu pedido necesito…"). A second flow in the same message ("cancela el
10005 y mándame la factura del 10002") cannot run at the same time: the customer is told it
comes next. The tracker it gets already holds this message's `language` slot, so the answers
are in the language of the reply.

When the message's intent is itself a FAQ, action_answer_faq answers every FAQ part.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.language import LANGUAGE_SLOT, ActionDetectLanguage, asked_language
from actions.orders.pending import PENDING_SLOT, pending_value

PARSE_KEY = "requests"
_ORDER_NUMBER = re.compile(r"(?<!\d)\d{5}(?!\d)")
# How the "comes next" message names each flow.
REQUEST_NAMES = {
    "es": {
        "order_status": "ver cómo va tu pedido",
        "place_order": "hacer un pedido",
        "cancel_order": "cancelar un pedido",
        "change_order": "cambiar un pedido",
        "return_request": "una devolución",
        "invoice_request": "tu factura",
        "payment_issue": "el problema con tu pago",
        "human_handoff": "hablar con una persona",
        "complaint": "tu queja",
        "account_help": "tu cuenta",
    },
    "en": {
        "order_status": "checking your order",
        "place_order": "placing an order",
        "cancel_order": "cancelling an order",
        "change_order": "changing an order",
        "return_request": "a return",
        "invoice_request": "your invoice",
        "payment_issue": "your payment problem",
        "human_handoff": "talking to a person",
        "complaint": "your complaint",
        "account_help": "your account",
    },
}


def requests_in(tracker: Tracker) -> list[dict[str, Any]]:
    """The requests components/requests.py found in the latest message (none if one).

    A part that asks for another language ("¿puedo seguir en español?") is no request to
    answer: actions/language.py switches, and the classifier's guess for it (a FAQ about
    Spain) would be a wrong answer.
    """
    found = (tracker.latest_message or {}).get(PARSE_KEY) or []
    return [
        r
        for r in found
        if isinstance(r, dict) and r.get("intent") and not asked_language(str(r.get("text") or ""))
    ]


class ActionOtherRequests(Action):
    """On every message: the conversation's language, then the other requests.

    The other requests are those of a message with several: FAQ parts are answered, a
    second flow is announced.
    """

    def name(self) -> str:
        """Rasa runs this action after reading every message.

        No slot is validated here: Hilo's slots are validated by their forms.
        """
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The conversation's language first (actions/language.py), then the other requests.

        Rasa calls this action on every message; the language slots are set here rather
        than by a slot-mapping action of their own, which cost a second call to the action
        server on every message (docs/benchmarks.md).
        """
        language_events = await ActionDetectLanguage().run(dispatcher, tracker, domain)
        for event in language_events:
            tracker.slots[event["name"]] = event["value"]
        return [*language_events, *self._other_requests(dispatcher, tracker)]

    @staticmethod
    def _other_requests(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """FAQ answers first; "afterwards: X" for a second flow."""
        requests = requests_in(tracker)
        main = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if len(requests) < 2 or main in (None, "faq"):
            return []
        lang = "en" if tracker.get_slot(LANGUAGE_SLOT) == "en" else "es"
        answered: set[str] = set()
        later: list[str] = []
        about: dict[str, str] = {}  # the order number a later request names
        for request in requests:
            intent = str(request["intent"])
            if intent == main or intent in answered:
                continue
            answered.add(intent)
            if intent.startswith("faq/"):
                # The language as this message set it (see components/nlg.py).
                dispatcher.utter_message(response=f"utter_{intent}", language=lang)
            elif intent in REQUEST_NAMES[lang]:
                later.append(intent)
                number = _ORDER_NUMBER.search(str(request.get("text") or ""))
                if number:
                    about[intent] = number.group(0)
        if not later:
            return []
        names = [REQUEST_NAMES[lang][intent] for intent in later]
        dispatcher.utter_message(
            response="utter_request_comes_next",
            request=" y ".join(names) if lang == "es" else " and ".join(names),
            language=lang,
        )
        return [SlotSet(PENDING_SLOT, pending_value(later[0], about.get(later[0])))]
