"""Payment problems: collect the order number and what happened, then hand to a person.

A person fixes payments (charged twice, declined, paid but shown unpaid), so the bot's job is
intake: `payment_issue_form` asks for the order number and a description, and the rules hand
the conversation over (reason `payment_problem`) with both in slots, so the agent asks
nothing again. No order detail is shown, so no ownership check is needed here; an order
number that is not one is asked again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import normalize_order_number
from actions.orders.common import entity_value

MAX_DESCRIPTION = 1_000
# The first message already describes the problem when it says this much ("me cobraron dos
# veces el pedido 10045"); "tengo un problema con un pago" does not, and is asked about.
MIN_DESCRIPTION_WORDS = 6
# Answers to "what happened?" that are not a description: the rules handle these.
NOT_A_DESCRIPTION = frozenset(
    {"deny", "faq", "human_handoff", "greet", "goodbye", "thank", "bot_challenge", "out_of_scope"}
)


class ValidatePaymentIssueForm(FormValidationAction):
    """Validates `payment_issue_form`: a well-formed order number and a description."""

    def name(self) -> str:
        """Rasa finds the validator of `payment_issue_form` by this name."""
        return "validate_payment_issue_form"

    async def extract_payment_problem(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "what happened?", or the first message when it already says it."""
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        intent = (message.get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") == "payment_problem":
            return (
                {} if intent in NOT_A_DESCRIPTION or not text.strip() else {"payment_problem": text}
            )
        first_message = intent == "payment_issue" and tracker.get_slot("payment_problem") is None
        if first_message and len(text.split()) >= MIN_DESCRIPTION_WORDS:
            return {"payment_problem": text}
        return {}

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The order number of the opening message or of the answer to "which order?"."""
        if tracker.get_slot("requested_slot") not in (None, "order_id"):
            return {}
        number = entity_value(tracker, "order_id")
        return {"order_id": number} if number else {}

    async def validate_order_id(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keeps anything shaped like an order number."""
        number = normalize_order_number(str(slot_value)) if slot_value is not None else None
        if number is None:
            dispatcher.utter_message(response="utter_order_id_invalid")
        return {"order_id": number}

    async def validate_payment_problem(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The customer's own words, trimmed to what a person reads."""
        text = " ".join(str(slot_value or "").split())[:MAX_DESCRIPTION]
        return {"payment_problem": text or None}
