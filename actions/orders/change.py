"""Change an order while it has not shipped: the address or an item's size/colour.

`change_order_form` is the lookup form (actions/orders/lookup.py), then `change_kind`, read
from the first message when it says so:

- "address": the new street, city and postal code (actions/orders/address.py);
- "variant": which item (asked only when the order has several) and its new size/colour,
  offered as buttons with what is in stock;
- "items": anything else (add or remove products, quantities) goes to a person,

then a confirmation (actions/orders/flow.py: only a clear yes changes anything); "no" at the
confirmation changes nothing, says so, and asks for the new address or variant again.
`action_change_order` applies the change in the store, or sets `change_outcome` to "handoff"
(other item changes, or an order already shipped) and the rules hand the conversation to a
person with reason `order_change`.
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
    OrderItemView,
    OrderView,
    OutOfStock,
    ProductNotFound,
    ProductView,
    normalize_text,
)
from actions.orders.address import (
    ADDRESS_SLOTS,
    AddressValidation,
    address_from_slots,
    address_in_request,
    address_parts_named,
    corrected_street,
    looks_like_street,
)
from actions.orders.catalogue import COLOURS_EN, fold, pick, variant_titles, with_singulars
from actions.orders.common import language, say_items, say_money, store
from actions.orders.flow import HELD_SLOT, opening_text
from actions.orders.lookup import (
    PROOF_QUESTIONS,
    OrderLookupValidation,
    order_to_act_on,
    verified_order,
)
from actions.orders.order_answers import says_wrong
from actions.orders.pending import after_flow
from actions.replies import Reply, is_drop, read_confirmation

KIND_SLOT = "change_kind"
ITEM_SLOT = "change_item"
NEW_VARIANT_SLOT = "change_new_variant"
CONFIRM_SLOT = "change_confirmed"
OUTCOME_SLOT = "change_outcome"
HANDOFF_REASON = "order_change"

_ADDRESS_WORDS = re.compile(
    r"\b(direcci|dire?cion|dirr?ecc?ion|domicilio|address|adress|adres|calle|colonia"
    r"|codigo postal|cp\b|entreg\w* en otr|"
    r"otra (direccion|casa)|mudanza|me mude|deliver\w* to|shipping address)"
)
_VARIANT_WORDS = re.compile(r"\b(talla|tallas|numero|color|colou?r|size|mas grande|mas chic)")
_ITEM_WORDS = re.compile(
    r"\b(producto|prenda|articulo|item|modelo|cantidad|quantity|agregar|anadir|quitar|add"
    r"|remove|otro (modelo|producto)|cambiar por|otros cambios|other changes)"
)


def item_sku(order: OrderView, tracker: Tracker) -> str | None:
    """The SKU of the line to change: the one chosen, or the order's only line."""
    chosen = tracker.get_slot(ITEM_SLOT)
    if chosen:
        return str(chosen)
    return order.items[0].sku if len(order.items) == 1 else None


def line_and_product(tracker: Tracker) -> tuple[OrderItemView | None, ProductView | None]:
    """The order line being changed and its product, once both are known."""
    order = verified_order(tracker)
    sku = item_sku(order, tracker) if order else None
    line = next((item for item in order.items if item.sku == sku), None) if order else None
    if line is None:
        return None, None
    try:
        return line, store().get_product(line.sku)
    except ProductNotFound:
        return line, None


def names_item(item: OrderItemView, text: str) -> bool:
    """Whether the text names the item: its Spanish or English name, or an alias."""
    folded = normalize_text(text)
    names = {item.product_name}
    try:
        product = store().get_product(item.sku)
        names |= {product.name_en, *product.aliases}
    except ProductNotFound:
        pass
    # One word of a name is enough: "the dress" (Shirt dress), "el vestido".
    words = {word for name in names for word in normalize_text(name).split() if len(word) >= 4}
    return any(re.search(rf"\b{re.escape(word)}\b", folded) for word in words)


def describe(size: str, colour: str) -> str:
    """Size and colour as customers read them ("M, negro"; one-size items: the colour)."""
    return ", ".join(part for part in (size if size != "Única" else "", colour) if part)


def change_kind_of(text: str) -> str | None:
    """What the text asks to change: "address", "variant", "items", or None."""
    folded = normalize_text(text)
    if _ADDRESS_WORDS.search(folded):
        return "address"
    if _ITEM_WORDS.search(folded):
        return "items"
    if _VARIANT_WORDS.search(folded):
        return "variant"
    return None


def new_address(order: OrderView, tracker: Tracker) -> bool:
    """Whether the change asked for is a new address the order can still take."""
    return tracker.get_slot(KIND_SLOT) == "address" and order.can_change_address


class ValidateChangeOrderForm(AddressValidation, OrderLookupValidation):
    """Validates `change_order_form`: the lookup, what to change, the new address."""

    confirmation = CONFIRM_SLOT
    hold_response = "utter_hold_change"
    own_intent = "change_order"

    def name(self) -> str:
        """Rasa finds the validator of `change_order_form` by this name."""
        return "validate_change_order_form"

    def sensitive(self, order: OrderView, tracker: Tracker) -> bool:
        """A new address needs more than the phone's digits; a new size or colour does not."""
        return new_address(order, tracker)

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """Nothing for shipped orders (a person takes them); then what the change needs."""
        if not order.can_change_address:
            return []
        kind = tracker.get_slot(KIND_SLOT)
        if kind == "address":
            return [KIND_SLOT, *ADDRESS_SLOTS, CONFIRM_SLOT]
        if kind == "variant":
            # An order with one line needs no "which item?" (item_sku() takes that line).
            which = [ITEM_SLOT] if len(order.items) > 1 else []
            return [KIND_SLOT, *which, NEW_VARIANT_SLOT, CONFIRM_SLOT]
        return [KIND_SLOT]

    async def extract_change_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The line the customer picked (a button's SKU) or named."""
        order = verified_order(tracker)
        if order is None or tracker.get_slot(ITEM_SLOT):
            return {}
        latest_text = str((tracker.latest_message or {}).get("text") or "")
        # The answer, or the first message when it already named the item ("the dress").
        for text in (latest_text, opening_text(tracker)):
            for item in order.items:  # a button's SKU, or the product's name
                if item.sku.lower() == text.strip().lower() or names_item(item, text):
                    return {ITEM_SLOT: item.sku}
        return {}

    async def extract_change_new_variant(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The new size and/or colour named in the answer (or a button's SKU)."""
        # Also when naming the item ("el vestido en talla M" answers both questions), and
        # right after the proof, from the first message ("the dress … to white").
        if tracker.get_slot("requested_slot") not in (
            ITEM_SLOT,
            NEW_VARIANT_SLOT,
            *PROOF_QUESTIONS,
        ):
            return {}
        line, product = line_and_product(tracker)
        if line is None or product is None:
            return {}
        latest_text = str((tracker.latest_message or {}).get("text") or "")
        button = next(
            (v for v in product.variants if v.sku.lower() == latest_text.strip().lower()), None
        )
        if button is not None:
            # The item's own SKU is the answer to "which item?", not a new variant.
            return {NEW_VARIANT_SLOT: button.sku} if button.sku != line.sku else {}
        english = {fold(v.colour_en): v.colour for v in product.variants}
        # The answer, or the first message when it already said what to ("to white").
        for text in (latest_text, opening_text(tracker)):
            size = pick(product.sizes, text) or line.size
            colour = pick(product.colours, with_singulars(text), {**COLOURS_EN, **english})
            named = product.variant(size, colour or line.colour)
            if named is not None and named.sku != line.sku:
                return {NEW_VARIANT_SLOT: named.sku}
        return {}

    async def validate_change_new_variant(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A variant with enough stock for the line's quantity."""
        line, product = line_and_product(tracker)
        if line is None or product is None:
            return {NEW_VARIANT_SLOT: None}
        variant = next((v for v in product.variants if v.sku == slot_value), None)
        if variant is None:
            return {NEW_VARIANT_SLOT: None}
        if variant.stock < line.quantity:
            dispatcher.utter_message(
                response="utter_variant_out_of_stock",
                product_name=line.product_name,
                options=", ".join(variant_titles(product, line.quantity, exclude=line.sku)),
            )
            return {NEW_VARIANT_SLOT: None}
        return {NEW_VARIANT_SLOT: variant.sku}

    async def extract_delivery_street(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A new address already in the request ("…del 10006 a Calle Hidalgo 12, Centro").

        Read when the request is made, or right after the proof; the city and postal code in
        it are read by validate_delivery_street. Answers to the address questions come
        through the domain's mappings as usual.
        """
        if tracker.get_slot("delivery_street") or tracker.get_slot("requested_slot") not in (
            None,
            *PROOF_QUESTIONS,
        ):
            return {}
        request = opening_text(tracker) or str((tracker.latest_message or {}).get("text") or "")
        if change_kind_of(request) != "address":
            return {}
        address = address_in_request(request)
        return {"delivery_street": address} if address else {}

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
        text = str(message.get("text") or "")
        kind = change_kind_of(text)
        if kind in (None, "address") and asked and looks_like_street(text.split(",")[0]):
            # "What do you want to change?" answered with the new address itself.
            return {KIND_SLOT: "address", "delivery_street": text}
        return {KIND_SLOT: kind} if kind else {}

    async def confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """At "is this address right?": a corrected street is taken and confirmed again.

        "No espera, me equivoqué en el número, es Av. Vallarta 1200, lo demás igual": the
        street changes (the rest of the address stays) and the question is asked again. A
        correction without the new value is a no (the address is asked again), never a wait.
        """
        text = str((tracker.latest_message or {}).get("text") or "")
        if is_drop(text) and read_confirmation(text) is not Reply.YES:
            # "no, mejor la dejo como estaba": nothing changes, and nothing more is asked.
            return [SlotSet(CONFIRM_SLOT, False), SlotSet("requested_slot", None)]
        if tracker.get_slot(KIND_SLOT) == "address" and read_confirmation(text) is not Reply.YES:
            street = corrected_street(text, str(tracker.get_slot("delivery_street") or ""))
            if street:
                dispatcher.utter_message(response="utter_order_correction")
                return [SlotSet("delivery_street", street), SlotSet(CONFIRM_SLOT, None)]
            if says_wrong(text):
                return await self.declined(dispatcher, tracker, domain)
        return await super().confirm(dispatcher, tracker, domain)

    async def declined(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A "no": nothing changes (said), and the new address or variant is asked again.

        "déjala así" at that question drops the change; the order stays as it was.
        """
        if tracker.get_slot(KIND_SLOT) == "variant":
            dispatcher.utter_message(response="utter_variant_correction")
            return [SlotSet(CONFIRM_SLOT, None), SlotSet(NEW_VARIANT_SLOT, None)]
        dispatcher.utter_message(response="utter_address_correction")
        text = str((tracker.latest_message or {}).get("text") or "")
        # "la calle está mal": only the street is asked again; the city and code stay.
        forget = address_parts_named(text)
        return [SlotSet(CONFIRM_SLOT, None), *(SlotSet(name, None) for name in forget)]


class ActionAskChangeItem(Action):
    """Asks which item to change, one button per line of the order."""

    def name(self) -> str:
        """Rasa asks for `change_item` with this action."""
        return "action_ask_change_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Buttons titled "2 × Camiseta básica (M, negro)"; the payload is the SKU."""
        order = verified_order(tracker)
        buttons = [
            {
                "title": f"{item.quantity} × {item.product_name}"
                f" ({describe(item.size, item.colour)})",
                "payload": item.sku,
            }
            for item in (order.items if order else ())
        ]
        dispatcher.utter_message(response="utter_ask_change_item", buttons=buttons[:10])
        return []


class ActionAskChangeNewVariant(Action):
    """Asks the new size/colour, with the variants in stock for the line as buttons."""

    def name(self) -> str:
        """Rasa asks for `change_new_variant` with this action."""
        return "action_ask_change_new_variant"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utters the question with up to 10 variants that have enough stock."""
        line, product = line_and_product(tracker)
        if line is None or product is None:
            dispatcher.utter_message(response="utter_order_action_failed")
            return []
        buttons = [
            {"title": describe(v.size, v.colour), "payload": v.sku}
            for v in product.variants
            if v.stock >= line.quantity and v.sku != line.sku
        ]
        dispatcher.utter_message(
            response="utter_ask_change_new_variant",
            product_name=line.product_name,
            current=describe(line.size, line.colour),
            buttons=buttons[:10],
        )
        return []


class ActionAskChangeConfirmed(Action):
    """The confirmation: the new address, or the item's new size/colour."""

    def name(self) -> str:
        """Rasa asks for `change_confirmed` with this action."""
        return "action_ask_change_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utters the matching confirmation response (nothing right after a "wait")."""
        if tracker.get_slot(HELD_SLOT):
            return [SlotSet(HELD_SLOT, None)]
        if tracker.get_slot(KIND_SLOT) != "variant":
            dispatcher.utter_message(response="utter_ask_change_confirmed")
            return []
        line, product = line_and_product(tracker)
        new = next(
            (
                v
                for v in (product.variants if product else ())
                if v.sku == tracker.get_slot(NEW_VARIANT_SLOT)
            ),
            None,
        )
        if line is None or new is None:
            dispatcher.utter_message(response="utter_order_action_failed")
            return []
        dispatcher.utter_message(
            response="utter_ask_change_item_confirmed",
            product_name=line.product_name,
            current=describe(line.size, line.colour),
            new=describe(new.size, new.colour),
        )
        return []


class ActionChangeOrder(Action):
    """Ends the change flow: the new address, or a person for everything else."""

    def name(self) -> str:
        """Runs when `change_order_form` completes (data/rules/orders.yml)."""
        return "action_change_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ends the flow, then the other request of the same message, if one waits."""
        events = await self._finish(dispatcher, tracker, domain)
        order = verified_order(tracker)
        return [*events, *after_flow(dispatcher, tracker, order, done="change_order")]

    async def _finish(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Applies an address change; hands items and shipped orders to a person."""
        reset: list[EventType] = [
            SlotSet("order_verification", None),
            SlotSet(KIND_SLOT, None),
            SlotSet(CONFIRM_SLOT, None),
        ]
        order, stop = order_to_act_on(dispatcher, tracker, sensitive=new_address)
        reset += stop  # the flow's one-turn markers, cleared however it ends
        if order is None:
            return [*reset, SlotSet(OUTCOME_SLOT, None)]
        if not order.can_change_address:
            dispatcher.utter_message(response="utter_change_not_possible", order_id=order.number)
            return [*reset, *self._to_a_person()]
        kind = tracker.get_slot(KIND_SLOT)
        if kind == "variant":
            return [*reset, *self._change_variant(dispatcher, tracker, order)]
        if kind != "address":
            dispatcher.utter_message(response="utter_change_items_handoff", order_id=order.number)
            return [*reset, *self._to_a_person()]
        if tracker.get_slot(CONFIRM_SLOT) is not True:
            # Only a clear yes changes the address ("no, mejor la dejo como estaba").
            dispatcher.utter_message(response="utter_change_kept", order_id=order.number)
            return [*reset, *self._forget_address(), SlotSet(OUTCOME_SLOT, "kept")]
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

    def _change_variant(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView
    ) -> list[EventType]:
        """Swaps the line to the confirmed variant; the new total is said."""
        done: list[EventType] = [SlotSet(ITEM_SLOT, None), SlotSet(NEW_VARIANT_SLOT, None)]
        if tracker.get_slot(CONFIRM_SLOT) is not True:
            return [*done, SlotSet(OUTCOME_SLOT, "kept")]
        try:
            changed = store().change_item(
                order.number,
                str(item_sku(order, tracker)),
                str(tracker.get_slot(NEW_VARIANT_SLOT)),
            )
        except OutOfStock as error:
            dispatcher.utter_message(
                response="utter_quantity_not_available", available=error.available
            )
            return [*done, SlotSet(OUTCOME_SLOT, "kept")]
        except InvalidOrderState:
            dispatcher.utter_message(response="utter_change_not_possible", order_id=order.number)
            return [*done, *self._to_a_person()]
        except CommerceError:
            dispatcher.utter_message(response="utter_order_action_failed")
            return [*done, SlotSet(OUTCOME_SLOT, "kept")]
        dispatcher.utter_message(
            response="utter_change_item_done",
            order_id=order.number,
            items=say_items(changed, language(tracker)),
            total=say_money(changed.total_cents),
        )
        return [*done, SlotSet(OUTCOME_SLOT, "changed")]

    @staticmethod
    def _forget_address() -> list[EventType]:
        """The new address not used is not kept for the next change."""
        return [SlotSet(name, None) for name in ADDRESS_SLOTS]

    @staticmethod
    def _to_a_person() -> list[EventType]:
        """The rules hand over next; action_handoff keeps this reason."""
        return [SlotSet(OUTCOME_SLOT, "handoff"), SlotSet("handoff_reason", HANDOFF_REASON)]
