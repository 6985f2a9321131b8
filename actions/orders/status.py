"""Order status: take the order number, prove the customer owns it, then say where it is.

The flow is the form `order_status_form` (domain.yml) with two slots:

- `order_id`: from the message's `order_id` entity, or picked from the buttons listing the
  customer's orders when the channel (or an earlier verification) already tells who they are;
- `order_verification`: the order's email or the last 4 digits of its phone, asked only when
  the customer has not proven a contact of that order yet.

Nothing about an order is said before ownership is proven, and an unknown order number gets
exactly the same answers as somebody else's (no leak, not even of its existence). Three
failed verifications stop the flow and offer a person (`verification_failures` persists, so
restarting the form does not buy more guesses); more than LOOKUP_LIMIT_PER_MINUTE lookups a
minute from one sender are throttled, counted in the store so every action server shares it.
`action_order_status` answers once the form is done, whatever way it ended.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import (
    LOOKUP_LIMIT_PER_MINUTE,
    OrderNotFound,
    OrderStatus,
    OrderView,
    normalize_order_number,
)
from actions.commerce.verification import contact_matches, normalize_email, normalize_phone
from actions.orders.common import (
    language,
    owns,
    say_date,
    say_items,
    slot_text,
    store,
    verified_contacts,
)

# Response placeholders these actions fill (utter_message keyword arguments); the others are
# store facts or slots (tests/unit/store/test_facts.py checks every placeholder is one).
FILLED_PLACEHOLDERS = frozenset(
    {
        "items",
        "carrier",
        "tracking_number",
        "expected_date",
        "delivered_date",
        "orders",
        "attempts_left",
    }
)
MAX_VERIFICATION_FAILURES = 3
BLOCKED_SLOT = "order_lookup_blocked"
FAILURES_SLOT = "verification_failures"
STORE_TIMEZONE = ZoneInfo("America/Mexico_City")

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[a-z]{2,}", re.IGNORECASE)
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,18}\d")


def failures(tracker: Tracker) -> int:
    """Failed verifications so far in this conversation."""
    value = tracker.get_slot(FAILURES_SLOT)
    return int(value) if isinstance(value, (int, float)) else 0


def find_order(order_id: str | None) -> OrderView | None:
    """The order with that number, or None (also for malformed numbers)."""
    number = normalize_order_number(order_id) if order_id else None
    if number is None:
        return None
    try:
        return store().get_order(number)
    except OrderNotFound:
        return None


def proof_in(text: str) -> dict[str, str]:
    """The ownership proof a customer typed: an email, a whole phone, or 4 digits."""
    email = _EMAIL.search(text)
    if email and normalize_email(email.group(0)):
        return {"email": email.group(0)}
    phone = _PHONE.search(text)
    if phone and normalize_phone(phone.group(0)):
        return {"phone": phone.group(0)}
    last4 = _LAST4.findall(text)
    if len(last4) == 1:
        return {"last4": last4[0]}
    return {}


class ValidateOrderStatusForm(FormValidationAction):
    """Validates `order_status_form`: order number, ownership, throttling."""

    def name(self) -> str:
        """Rasa finds the validator of `order_status_form` by this name."""
        return "validate_order_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing more when blocked; no verification when ownership is already proven."""
        if tracker.get_slot(BLOCKED_SLOT) or failures(tracker) >= MAX_VERIFICATION_FAILURES:
            return []
        order = find_order(slot_text(tracker, "order_id"))
        if order is not None and owns(order, verified_contacts(tracker)):
            return ["order_id"]
        return ["order_id", "order_verification"]

    def _throttled(self, tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
        """Counts one lookup; True (and tells the customer) when over the limit."""
        if store().record_lookup_attempt(tracker.sender_id) > LOOKUP_LIMIT_PER_MINUTE:
            dispatcher.utter_message(response="utter_lookup_throttled")
            return True
        return False

    async def validate_order_id(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accepts anything shaped like an order number; a new number needs a new proof."""
        if self._throttled(tracker, dispatcher):
            return {"order_id": None, BLOCKED_SLOT: "throttled"}
        number = normalize_order_number(str(slot_value)) if slot_value is not None else None
        if number is None:
            dispatcher.utter_message(response="utter_order_id_invalid")
            return {"order_id": None}
        return {"order_id": number, "order_verification": None}

    async def validate_order_verification(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Checks the proof against the order; the same reply whether or not it exists."""
        proof = proof_in(str(slot_value or ""))
        if not proof:
            dispatcher.utter_message(response="utter_verification_help")
            return {"order_verification": None}
        if self._throttled(tracker, dispatcher):
            return {"order_verification": None, BLOCKED_SLOT: "throttled"}
        order = find_order(slot_text(tracker, "order_id"))
        if order is not None and contact_matches(order, **proof):
            contact = (
                f"email:{normalize_email(order.email)}"
                if "email" in proof
                else f"phone:{normalize_phone(order.phone)}"
            )
            return {"order_verification": "ok", "verified_contact": contact, FAILURES_SLOT: 0.0}
        failed = failures(tracker) + 1
        if failed < MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(
                response="utter_verification_failed",
                attempts_left=MAX_VERIFICATION_FAILURES - failed,
            )
            return {"order_verification": None, FAILURES_SLOT: float(failed)}
        return {
            "order_verification": None,
            FAILURES_SLOT: float(failed),
            BLOCKED_SLOT: "verification_failed",
        }


class ActionAskOrderId(Action):
    """Asks for the order number; a customer we already know picks from their orders."""

    def name(self) -> str:
        """Rasa asks for `order_id` with this action (action_ask_<slot>)."""
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Buttons with the customer's recent orders when their contact is proven."""
        contacts = verified_contacts(tracker)
        orders = (
            store().orders_for_contact(phone=contacts.get("phone"), email=contacts.get("email"))
            if contacts
            else []
        )
        if not orders:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        lang = language(tracker)
        buttons = [
            {
                "title": f"{order.number} · {STATUS_WORDS[lang][order.status]}",
                "payload": f'/order_status{{"order_id":"{order.number}"}}',
            }
            for order in orders[:10]
        ]
        dispatcher.utter_message(response="utter_choose_order", buttons=buttons)
        return []


STATUS_WORDS = {
    "es": {
        OrderStatus.PENDING_PAYMENT: "pendiente de pago",
        OrderStatus.PAID: "pagado",
        OrderStatus.PREPARING: "en preparación",
        OrderStatus.SHIPPED: "en camino",
        OrderStatus.DELIVERED: "entregado",
        OrderStatus.CANCELLED: "cancelado",
        OrderStatus.RETURNED: "devuelto",
    },
    "en": {
        OrderStatus.PENDING_PAYMENT: "awaiting payment",
        OrderStatus.PAID: "paid",
        OrderStatus.PREPARING: "being prepared",
        OrderStatus.SHIPPED: "on its way",
        OrderStatus.DELIVERED: "delivered",
        OrderStatus.CANCELLED: "cancelled",
        OrderStatus.RETURNED: "returned",
    },
}


def local_date(moment: datetime | None, lang: str) -> str:
    """A UTC moment as a date in the store's time zone, in words."""
    if moment is None:
        return ""
    return say_date(moment.astimezone(STORE_TIMEZONE).date(), lang)


class ActionOrderStatus(Action):
    """Ends the order status flow: the status, or why it cannot be shown."""

    def name(self) -> str:
        """Runs when `order_status_form` completes (data/rules/orders.yml)."""
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utters the order's status, or the stop message; resets the per-lookup slots."""
        reset: list[EventType] = [SlotSet("order_verification", None)]
        blocked = tracker.get_slot(BLOCKED_SLOT)
        if blocked == "throttled":
            return [*reset, SlotSet(BLOCKED_SLOT, None)]
        if blocked == "verification_failed" or failures(tracker) >= MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(response="utter_verification_blocked")
            return [*reset, SlotSet(BLOCKED_SLOT, "verification_failed")]
        order = find_order(slot_text(tracker, "order_id"))
        contacts = verified_contacts(tracker)
        if order is None or not owns(order, contacts):
            # The form only completes with a proven owner; anything else is a bug, and the
            # safe answer is to show nothing.
            dispatcher.utter_message(response="utter_default")
            return reset
        lang = language(tracker)
        dispatcher.utter_message(
            response=f"utter_order_{order.status.value}",
            order_id=order.number,
            items=say_items(order, lang),
            carrier=order.carrier or "",
            tracking_number=order.tracking_number or "",
            expected_date=say_date(order.expected_delivery, lang)
            if order.expected_delivery
            else "",
            delivered_date=local_date(order.delivered_at, lang),
        )
        others = [
            other.number
            for other in store().orders_for_contact(
                phone=contacts.get("phone"), email=contacts.get("email")
            )
            if other.number != order.number
        ]
        if others:
            dispatcher.utter_message(response="utter_other_orders", orders=", ".join(others[:5]))
        return reset
