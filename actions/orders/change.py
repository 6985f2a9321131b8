"""Change an order: the delivery address while it has not shipped; anything else, a person.

`change_order_form` is the lookup form (actions/orders/lookup.py), then `change_kind`
("address" or "items", read from the first message when it says so), then for an address the
new street, city and postal code (actions/orders/address.py) and a confirmation; "no" at the
confirmation clears the address and asks it again. `action_change_order` applies the new
address, or sets `change_outcome` to "handoff" (items, or an order already shipped) and the
rules hand the conversation to a person with reason `order_change`.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import (
    CommerceError,
    InvalidAddress,
    InvalidOrderState,
    OrderView,
    normalize_text,
)
from actions.orders.address import ADDRESS_SLOTS, AddressValidation, address_from_slots
from actions.orders.common import store
from actions.orders.lookup import (
    OrderLookupValidation,
    order_to_act_on,
)

KIND_SLOT = "change_kind"
CONFIRM_SLOT = "change_confirmed"
OUTCOME_SLOT = "change_outcome"
HANDOFF_REASON = "order_change"

_ADDRESS_WORDS = re.compile(
    r"\b(direcci|domicilio|address|calle|colonia|codigo postal|cp\b|entreg\w* en otr|"
    r"otra (direccion|casa)|mudanza|me mude|deliver\w* to|shipping address)"
)
_ITEM_WORDS = re.compile(
    r"\b(talla|tallas|color|colou?r|size|producto|prenda|articulo|item|modelo|cantidad|"
    r"quantity|agregar|añadir|anadir|quitar|add|remove|otro (modelo|producto)|cambiar por)"
)


def change_kind_of(text: str) -> str | None:
    """What the text asks to change: "address", "items", or None when it does not say."""
    folded = normalize_text(text)
    if _ADDRESS_WORDS.search(folded):
        return "address"
    if _ITEM_WORDS.search(folded):
        return "items"
    return None


class ValidateChangeOrderForm(AddressValidation, OrderLookupValidation):
    """Validates `change_order_form`: the lookup, what to change, the new address."""

    def name(self) -> str:
        """Rasa finds the validator of `change_order_form` by this name."""
        return "validate_change_order_form"

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """Nothing for shipped orders (a person takes them); the address only if asked."""
        if not order.can_change_address:
            return []
        if tracker.get_slot(KIND_SLOT) != "address":
            return [KIND_SLOT]
        return [KIND_SLOT, *ADDRESS_SLOTS, CONFIRM_SLOT]

    def slots_read_early(self) -> list[str]:
        """The opening request may already say what to change ("cambiar la dirección")."""
        return [KIND_SLOT]

    async def extract_change_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """From the answer to "what do you want to change?", or the first message."""
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        asked = tracker.get_slot("requested_slot") == KIND_SLOT
        if not asked and not (intent == "change_order" and tracker.get_slot(KIND_SLOT) is None):
            return {}
        # Anything else is not extracted: the form asks again, with buttons.
        kind = change_kind_of(str(message.get("text") or ""))
        return {KIND_SLOT: kind} if kind else {}

    async def validate_change_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A "no" is a correction: forget the address and ask it again."""
        if slot_value is False:
            dispatcher.utter_message(response="utter_address_correction")
            return {CONFIRM_SLOT: None, **{name: None for name in ADDRESS_SLOTS}}
        return {CONFIRM_SLOT: slot_value}


class ActionChangeOrder(Action):
    """Ends the change flow: the new address, or a person for everything else."""

    def name(self) -> str:
        """Runs when `change_order_form` completes (data/rules/orders.yml)."""
        return "action_change_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Applies an address change; hands items and shipped orders to a person."""
        reset: list[EventType] = [
            SlotSet("order_verification", None),
            SlotSet(KIND_SLOT, None),
            SlotSet(CONFIRM_SLOT, None),
        ]
        order, stop = order_to_act_on(dispatcher, tracker)
        if order is None:
            return [*reset, *stop, SlotSet(OUTCOME_SLOT, None)]
        if not order.can_change_address:
            dispatcher.utter_message(response="utter_change_not_possible", order_id=order.number)
            return [*reset, *self._to_a_person()]
        if tracker.get_slot(KIND_SLOT) != "address":
            dispatcher.utter_message(response="utter_change_items_handoff", order_id=order.number)
            return [*reset, *self._to_a_person()]
        address = address_from_slots(tracker, order.address.country)
        if address is None:
            dispatcher.utter_message(response="utter_address_invalid")
            return [*reset, SlotSet(OUTCOME_SLOT, "kept")]
        try:
            store().change_address(order.number, address)
        except InvalidOrderState:
            dispatcher.utter_message(response="utter_change_not_possible", order_id=order.number)
            return [*reset, *self._to_a_person()]
        except (InvalidAddress, CommerceError):
            dispatcher.utter_message(response="utter_order_action_failed")
            return [*reset, SlotSet(OUTCOME_SLOT, "kept")]
        dispatcher.utter_message(response="utter_change_address_done", order_id=order.number)
        return [*reset, SlotSet(OUTCOME_SLOT, "changed")]

    @staticmethod
    def _to_a_person() -> list[EventType]:
        """The rules hand over next; action_handoff keeps this reason."""
        return [SlotSet(OUTCOME_SLOT, "handoff"), SlotSet("handoff_reason", HANDOFF_REASON)]
