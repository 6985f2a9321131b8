"""Place an order: product, variant, quantity, name, address, contact, delivery and payment.

`place_order_form` collects, in this order and only what is still unknown:

- `product`: the `product` entity or the text, fuzzy-matched against the catalogue;
  several close matches are offered as buttons;
- `product_size`, `product_colour`: only when the product has more than one ("talla 42",
  "M", "negras", "black"); a variant out of stock is said, with what there is;
- `quantity`: the `quantity` entity, digits or a number word; 1 to 10, checked against stock;
- `customer_name`: the text (or a `person` entity);
- `delivery_street`, `delivery_city`, `delivery_postal_code`: actions/orders/address.py;
- `contact`: a phone (Latin American formats) or an email; not asked when the channel
  already gives the phone (WhatsApp, SMS);
- `delivery_option`, `payment_method`: buttons or the words;
- `order_confirmed`: yes/no after a summary with the totals.

The first message is read for product, size, colour and quantity, so "quiero 2 zapatillas
urbanas blancas talla 42" goes straight to the name. "No" at the summary is a correction:
what the answer names ("no, la dirección es otra") is forgotten and asked again; when it
names nothing, the customer picks what to fix. "Olvídalo" at any point drops the order.
`action_place_order` creates the order in pending payment and says its number and total.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import (
    MAX_LINE_QUANTITY,
    CommerceError,
    DeliveryOption,
    NewOrder,
    OrderLine,
    OutOfStock,
    PaymentMethod,
    ProductNotFound,
    ProductView,
    VariantView,
    shipping_cents,
)
from actions.commerce.verification import normalize_email, normalize_phone
from actions.orders.address import ADDRESS_SLOTS, AddressValidation, address_from_slots, clean
from actions.orders.catalogue import COLOURS_EN, fold, pick, with_singulars
from actions.orders.common import (
    channel_phone,
    entity_value,
    language,
    say_money,
    slot_text,
    store,
)

PRODUCT_SLOTS = ("product", "product_size", "product_colour", "quantity")
CUSTOMER_SLOTS = ("customer_name", *ADDRESS_SLOTS, "contact")
CHOICE_SLOTS = ("delivery_option", "payment_method")
FORM_SLOTS = (*PRODUCT_SLOTS, *CUSTOMER_SLOTS, *CHOICE_SLOTS, "order_confirmed")
# Cleared after an order: a second order asks for a product again but not who the customer is.
PER_ORDER_SLOTS = (
    *PRODUCT_SLOTS,
    *CHOICE_SLOTS,
    "order_confirmed",
    "order_abandoned",
    "order_correction_pending",
)

# Slots whose answers are one or two words from a known set (buttons).
SHORT_ANSWER_SLOTS = frozenset(
    {"product_size", "product_colour", "quantity", "delivery_option", "payment_method"}
)
_NUMBER = re.compile(r"(?<![\d.])(\d{1,4})(?![\d.])")
_NUMBER_WORDS = {
    "un": 1, "una": 1, "uno": 1, "one": 1, "a": 1, "dos": 2, "two": 2, "par": 2, "couple": 2,
    "tres": 3, "three": 3, "cuatro": 4, "four": 4, "cinco": 5, "five": 5, "seis": 6, "six": 6,
    "siete": 7, "seven": 7, "ocho": 8, "eight": 8, "nueve": 9, "nine": 9, "diez": 10, "ten": 10,
}  # fmt: skip
_ABANDON = re.compile(
    r"\b(olvida|olvidalo|ya no (lo )?quiero|dejalo|mejor no|cancela(lo)?|no quiero comprar|"
    r"forget it|never ?mind|cancel( it)?|don ?t want it)"
)
# What a correction names, checked in this order ("el color de la talla" is a colour).
_CORRECTIONS = (
    (
        "delivery_street",
        r"direcci|domicilio|calle|colonia|postal|\bcp\b|ciudad|address|street|city",
    ),
    ("product_colour", r"\bcolou?r\b"),
    ("product_size", r"talla|size|numero de calzado"),
    ("quantity", r"cantidad|cuant[oa]s|quantity|how many|piezas|unidades"),
    ("customer_name", r"nombre|name"),
    ("contact", r"telefono|celular|whats|correo|mail|phone|contacto"),
    ("delivery_option", r"envio|entrega|express|estandar|shipping|delivery"),
    ("payment_method", r"pago|pagar|tarjeta|oxxo|spei|paypal|mercado|payment|card"),
    ("product", r"producto|articulo|prenda|modelo|product|item"),
)  # fmt: skip
_DELIVERY_WORDS = {
    DeliveryOption.EXPRESS: r"expres|rapid|urgent|fast|next day|1 dia",
    DeliveryOption.STANDARD: r"estandar|normal|standard|regular|barat|cheap|gratis|free",
}
_PAYMENT_WORDS = {
    PaymentMethod.MERCADO_PAGO: r"mercado",
    PaymentMethod.PAYPAL: r"paypal|pay pal",
    PaymentMethod.SPEI: r"spei|transferencia|transfer",
    PaymentMethod.OXXO: r"oxxo|efectivo|cash",
    PaymentMethod.CARD: r"tarjeta|card|credito|debito|visa|master|amex|credit|debit",
}


def product_name(product: ProductView, tracker: Tracker) -> str:
    """The product's name in the conversation's language."""
    return product.name_en if language(tracker) == "en" else product.name


def chosen_product(tracker: Tracker) -> ProductView | None:
    """The product the conversation settled on, if any."""
    key = slot_text(tracker, "product")
    if not key:
        return None
    try:
        return store().get_product(key)
    except ProductNotFound:
        return None


def quantity_in(tracker: Tracker, text: str) -> int | None:
    """A quantity from the `quantity` entity, digits, or a number word."""
    value = entity_value(tracker, "quantity")
    if value is not None and value.strip().isdigit():
        return int(value)
    digits = _NUMBER.search(text)
    if digits:
        return int(digits.group(1))
    for word in fold(text).split():
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


def variant_of(product: ProductView, tracker: Tracker) -> VariantView | None:
    """The variant for the chosen size and colour (or the only one there is)."""
    size = slot_text(tracker, "product_size") or (
        product.sizes[0] if len(product.sizes) == 1 else None
    )
    colour = slot_text(tracker, "product_colour") or (
        product.colours[0] if len(product.colours) == 1 else None
    )
    return product.variant(size, colour) if size and colour else None


def choose(words: dict[Any, str], text: str) -> str | None:
    """The first option whose words appear in the text."""
    folded = fold(text)
    for option, pattern in words.items():
        if re.search(pattern, folded):
            return str(option.value)
    return None


class ValidatePlaceOrderForm(AddressValidation, FormValidationAction):
    """Validates `place_order_form` (see the module docstring for what it asks and when)."""

    def name(self) -> str:
        """Rasa finds the validator of `place_order_form` by this name."""
        return "validate_place_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Every slot, minus variants a product does not have and a contact we already know."""
        if tracker.get_slot("order_abandoned"):
            return []
        product = chosen_product(tracker)
        slots = list(FORM_SLOTS)
        if product is not None and len(product.sizes) == 1:
            slots.remove("product_size")
        if product is not None and len(product.colours) == 1:
            slots.remove("product_colour")
        if channel_phone(tracker):
            slots.remove("contact")
        return slots

    # ------------------------------------------------------------------ extraction

    def _message(self, tracker: Tracker) -> tuple[str, str | None]:
        message = tracker.latest_message or {}
        return str(message.get("text") or ""), (message.get("intent") or {}).get("name")

    def _reading(self, tracker: Tracker, slot: str) -> bool:
        """Whether the latest message may fill `slot`: asked for it, or the opening request.

        A short answer to a choice ("Express", "OXXO", "white") is read whatever intent the
        NLU gave it: alone, such words look like questions about shipping or payment.
        """
        text, intent = self._message(tracker)
        if tracker.get_slot("requested_slot") == slot:
            short_choice = slot in SHORT_ANSWER_SLOTS and len(text.split()) <= 4
            return short_choice or intent not in ("faq", "human_handoff", "deny", "out_of_scope")
        return intent == "place_order" and tracker.get_slot(slot) is None

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The product entity, else the text; one clear match, or buttons to choose."""
        if not self._reading(tracker, "product"):
            return {}
        text, _ = self._message(tracker)
        query = entity_value(tracker, "product") or text
        matches = store().find_products(query, limit=5)
        if not matches:
            if tracker.get_slot("requested_slot") == "product":
                dispatcher.utter_message(response="utter_product_not_found")
            return {}
        best = matches[0]
        clear = len(matches) == 1 or (best.score >= 0.8 and matches[1].score < best.score - 0.1)
        if clear:
            return {"product": best.product.id}
        english = language(tracker) == "en"
        buttons = [
            {"title": m.product.name_en if english else m.product.name, "payload": m.product.name}
            for m in matches
        ]
        dispatcher.utter_message(response="utter_choose_product", buttons=buttons)
        return {}

    async def extract_product_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A size of the chosen product named in the message."""
        product = chosen_product(tracker)
        if product is None or not self._reading(tracker, "product_size"):
            return {}
        size = pick(product.sizes, self._message(tracker)[0])
        return {"product_size": size} if size else {}

    async def extract_product_colour(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A colour of the chosen product named in the message (Spanish or English)."""
        product = chosen_product(tracker)
        if product is None or not self._reading(tracker, "product_colour"):
            return {}
        colour = pick(product.colours, with_singulars(self._message(tracker)[0]), COLOURS_EN)
        return {"product_colour": colour} if colour else {}

    async def extract_quantity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """How many: the quantity entity, digits or a number word."""
        if not self._reading(tracker, "quantity"):
            return {}
        asked = tracker.get_slot("requested_slot") == "quantity"
        if not asked and entity_value(tracker, "quantity") is None:
            return {}  # in the opening request only an explicit quantity counts, not "talla 42"
        quantity = quantity_in(tracker, self._message(tracker)[0])
        return {"quantity": float(quantity)} if quantity is not None else {}

    async def extract_customer_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "a nombre de quién?" (a person entity, else the text)."""
        if tracker.get_slot("requested_slot") != "customer_name" or not self._reading(
            tracker, "customer_name"
        ):
            return {}
        return {"customer_name": entity_value(tracker, "person") or self._message(tracker)[0]}

    async def extract_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the contact question, validated in validate_contact."""
        if tracker.get_slot("requested_slot") != "contact" or not self._reading(tracker, "contact"):
            return {}
        return {
            "contact": entity_value(tracker, "email")
            or entity_value(tracker, "phone")
            or self._message(tracker)[0]
        }

    async def extract_delivery_option(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Standard or express, from the buttons or the words."""
        if not self._reading(tracker, "delivery_option"):
            return {}
        option = choose(_DELIVERY_WORDS, self._message(tracker)[0])
        return {"delivery_option": option} if option else {}

    async def extract_payment_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A payment method the store accepts, from the buttons or the words."""
        if not self._reading(tracker, "payment_method"):
            return {}
        method = choose(_PAYMENT_WORDS, self._message(tracker)[0])
        return {"payment_method": method} if method else {}

    async def extract_order_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes places the order; "olvídalo" drops it; any other no is a correction."""
        if tracker.get_slot("requested_slot") != "order_confirmed":
            return {}
        text, intent = self._message(tracker)
        if _ABANDON.search(fold(text)):
            return {"order_confirmed": False}  # validate_order_confirmed tells it apart
        if intent == "affirm":
            return {"order_confirmed": True}
        if intent == "deny" or any(re.search(p, fold(text)) for _, p in _CORRECTIONS):
            return {"order_confirmed": False}
        return {}

    # ------------------------------------------------------------------ validation

    async def validate_product(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """An orderable product; an out-of-stock one is said so, with what is available."""
        try:
            product = store().get_product(str(slot_value))
        except ProductNotFound:
            dispatcher.utter_message(response="utter_product_not_found")
            return {"product": None}
        if not product.in_stock:
            dispatcher.utter_message(
                response="utter_product_out_of_stock", product_name=product_name(product, tracker)
            )
            return {"product": None}
        # A new product invalidates the previous one's variant.
        if tracker.get_slot("product") not in (None, product.id):
            return {"product": product.id, "product_size": None, "product_colour": None}
        return {"product": product.id}

    async def validate_product_size(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A size the product comes in, with stock in some colour."""
        return self._check_variant(dispatcher, tracker, size=str(slot_value))

    async def validate_product_colour(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A colour the product comes in, in stock in the chosen size."""
        return self._check_variant(dispatcher, tracker, colour=str(slot_value))

    def _check_variant(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        size: str | None = None,
        colour: str | None = None,
    ) -> dict[str, Any]:
        product = chosen_product(tracker)
        if product is None:
            return {}
        size = size or slot_text(tracker, "product_size")
        colour = colour or slot_text(tracker, "product_colour")
        candidates = [
            v
            for v in product.variants
            if (size is None or v.size == size) and (colour is None or v.colour == colour)
        ]
        if any(v.stock > 0 for v in candidates):
            return {"product_size": size, "product_colour": colour}
        in_stock = [v for v in product.variants if v.stock > 0]
        english = language(tracker) == "en"
        colours = {v.colour_en if english else v.colour for v in in_stock if size in (None, v.size)}
        options = sorted(colours) or sorted({v.size for v in in_stock})
        dispatcher.utter_message(
            response="utter_variant_out_of_stock",
            product_name=product_name(product, tracker),
            options=", ".join(options),
        )
        # Keep what still has stock; forget the part that made it unavailable.
        return (
            {"product_colour": None}
            if colour and options
            else {"product_size": None, "product_colour": None}
        )

    async def validate_quantity(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """1 to MAX_LINE_QUANTITY, and no more than the stock of the variant."""
        try:
            quantity = int(float(slot_value))
        except (TypeError, ValueError):
            quantity = 0
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            dispatcher.utter_message(
                response="utter_quantity_invalid", max_quantity=MAX_LINE_QUANTITY
            )
            return {"quantity": None}
        product = chosen_product(tracker)
        variant = variant_of(product, tracker) if product else None
        if variant is not None:
            check = store().check_stock(variant.sku, quantity)
            if not check.ok:
                dispatcher.utter_message(
                    response="utter_quantity_not_available", available=check.available
                )
                return {"quantity": None}
        return {"quantity": float(quantity)}

    async def validate_customer_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A name: letters, not too long, no markup."""
        name = clean(slot_value, 100)
        if name is None or not re.search(r"[^\W\d_]", name):
            dispatcher.utter_message(response="utter_name_invalid")
            return {"customer_name": None}
        return {"customer_name": name}

    async def validate_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A valid email or phone number (Latin American numbering plans)."""
        text = str(slot_value or "")
        email = normalize_email(text)
        if email:
            return {"contact": f"email:{email}"}
        phone = normalize_phone(text)
        if phone:
            return {"contact": f"phone:{phone}"}
        dispatcher.utter_message(response="utter_contact_invalid")
        return {"contact": None}

    async def validate_order_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Drops the order on "olvídalo"; a correction forgets what it names."""
        if slot_value is not False:
            return {"order_confirmed": slot_value}
        text = fold(self._message(tracker)[0])
        if _ABANDON.search(text):
            return {"order_confirmed": None, "order_abandoned": True}
        for slot, pattern in _CORRECTIONS:
            if re.search(pattern, text):
                forget: tuple[str, ...] = (slot,)
                if slot == "delivery_street":
                    forget = ADDRESS_SLOTS
                elif slot == "product":
                    forget = PRODUCT_SLOTS
                dispatcher.utter_message(response="utter_order_correction")
                return {"order_confirmed": None, **{name: None for name in forget}}
        # Nothing named: the next question is "what do you want to fix?" (the ask action).
        return {"order_confirmed": None, "order_correction_pending": True}


DELIVERY_NAMES = {
    "es": {"standard": "envío estándar", "express": "envío express"},
    "en": {"standard": "standard shipping", "express": "express shipping"},
}
PAYMENT_NAMES = {
    "es": {
        "card": "tarjeta",
        "paypal": "PayPal",
        "mercado_pago": "Mercado Pago",
        "spei": "transferencia SPEI",
        "oxxo": "efectivo en OXXO",
    },
    "en": {
        "card": "card",
        "paypal": "PayPal",
        "mercado_pago": "Mercado Pago",
        "spei": "SPEI bank transfer",
        "oxxo": "cash at OXXO",
    },
}


def order_summary(tracker: Tracker) -> dict[str, str] | None:
    """The summary's parts (product, quantity, address, totals), or None if incomplete."""
    product = chosen_product(tracker)
    variant = variant_of(product, tracker) if product else None
    quantity = tracker.get_slot("quantity")
    option = slot_text(tracker, "delivery_option")
    if product is None or variant is None or not quantity or option is None:
        return None
    lang = language(tracker)
    subtotal = variant.price_cents * int(quantity)
    shipping = shipping_cents(option, subtotal)
    details = ", ".join(
        part
        for part in (
            variant.size if len(product.sizes) > 1 else "",
            (variant.colour_en if lang == "en" else variant.colour)
            if len(product.colours) > 1
            else "",
        )
        if part
    )
    name = product.name_en if lang == "en" else product.name
    payment = slot_text(tracker, "payment_method") or ""
    return {
        "line": f"{int(quantity)} × {name}" + (f" ({details})" if details else ""),
        "delivery_shown": DELIVERY_NAMES[lang].get(option, option),
        "payment_shown": PAYMENT_NAMES[lang].get(payment, payment),
        "subtotal": say_money(subtotal),
        "shipping": say_money(shipping),
        "total": say_money(subtotal + shipping),
    }


class ActionAskProductSize(Action):
    """Asks the size with the product's sizes in stock as buttons."""

    def name(self) -> str:
        """Rasa asks for `product_size` with this action."""
        return "action_ask_product_size"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One button per size that has stock in some colour."""
        product = chosen_product(tracker)
        sizes = (
            []
            if product is None
            else [
                size
                for size in product.sizes
                if any(v.size == size and v.stock > 0 for v in product.variants)
            ]
        )
        dispatcher.utter_message(
            response="utter_ask_product_size",
            product_name=product_name(product, tracker) if product else "",
            buttons=[{"title": size, "payload": size} for size in sizes][:10],
        )
        return []


class ActionAskProductColour(Action):
    """Asks the colour with the colours in stock in the chosen size as buttons."""

    def name(self) -> str:
        """Rasa asks for `product_colour` with this action."""
        return "action_ask_product_colour"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One button per colour with stock (in the chosen size, when there is one)."""
        product = chosen_product(tracker)
        size = slot_text(tracker, "product_size")
        english = language(tracker) == "en"
        options: dict[str, str] = {}
        for variant in product.variants if product else ():
            if variant.stock > 0 and (size is None or variant.size == size):
                options[variant.colour] = variant.colour_en if english else variant.colour
        dispatcher.utter_message(
            response="utter_ask_product_colour",
            product_name=product_name(product, tracker) if product else "",
            buttons=[{"title": title, "payload": colour} for colour, title in options.items()][:10],
        )
        return []


class ActionAskOrderConfirmed(Action):
    """The summary before the order is placed, with confirm/fix buttons."""

    def name(self) -> str:
        """Rasa asks for `order_confirmed` with this action."""
        return "action_ask_order_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The summary with totals, or "what to fix?" after a bare "no"."""
        if tracker.get_slot("order_correction_pending"):
            dispatcher.utter_message(response="utter_ask_what_to_correct")
            return [SlotSet("order_correction_pending", None)]
        summary = order_summary(tracker)
        if summary is None:
            dispatcher.utter_message(response="utter_order_action_failed")
            return []
        contact = slot_text(tracker, "contact") or f"phone:{channel_phone(tracker)}"
        dispatcher.utter_message(
            response="utter_ask_order_confirmed", contact_shown=contact.split(":", 1)[1], **summary
        )
        return []


class ActionPlaceOrder(Action):
    """Ends the order form: the order in pending payment, or nothing when dropped."""

    def name(self) -> str:
        """Runs when `place_order_form` completes (data/rules/orders.yml)."""
        return "action_place_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Creates the order; per-order slots are cleared, who the customer is is kept."""
        reset: list[EventType] = [SlotSet(name, None) for name in PER_ORDER_SLOTS]
        if tracker.get_slot("order_abandoned") or tracker.get_slot("order_confirmed") is not True:
            dispatcher.utter_message(response="utter_order_abandoned")
            return reset
        product = chosen_product(tracker)
        variant = variant_of(product, tracker) if product else None
        address = address_from_slots(tracker)
        contact = slot_text(tracker, "contact") or f"phone:{channel_phone(tracker)}"
        kind, _, value = contact.partition(":")
        if variant is None or address is None:
            dispatcher.utter_message(response="utter_order_action_failed")
            return reset
        try:
            order = store().create_order(
                NewOrder(
                    customer_name=str(tracker.get_slot("customer_name")),
                    phone=value if kind == "phone" else None,
                    email=value if kind == "email" else None,
                    address=address,
                    delivery_option=DeliveryOption(str(tracker.get_slot("delivery_option"))),
                    payment_method=PaymentMethod(str(tracker.get_slot("payment_method"))),
                    lines=(OrderLine(variant.sku, int(tracker.get_slot("quantity"))),),
                )
            )
        except OutOfStock as error:
            dispatcher.utter_message(
                response="utter_quantity_not_available", available=error.available
            )
            return [SlotSet("quantity", None), SlotSet("order_confirmed", None)]
        except (CommerceError, ValueError):
            dispatcher.utter_message(response="utter_order_action_failed")
            return reset
        dispatcher.utter_message(
            response=f"utter_order_placed_{order.payment_method.value}",
            order_id=order.number,
            total=say_money(order.total_cents),
        )
        return [*reset, SlotSet("order_id", order.number)]
