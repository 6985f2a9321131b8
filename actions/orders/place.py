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

from rasa_sdk import Action, Tracker
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
    ProductMatch,
    ProductNotFound,
    ProductView,
    VariantView,
    shipping_cents,
)
from actions.commerce.verification import normalize_email, normalize_phone
from actions.orders.address import (
    ADDRESS_SLOTS,
    AddressValidation,
    address_from_slots,
    address_parts_named,
    clean,
    looks_like_street,
)
from actions.orders.catalogue import COLOURS_EN, fold, with_singulars
from actions.orders.common import (
    channel_phone,
    entity_value,
    language,
    say_money,
    slot_text,
    store,
)
from actions.orders.flow import (
    DROPPED_SLOT,
    HELD_SLOT,
    FlowValidation,
    dropped,
    faq_answer,
    flow_end,
    latest,
)
from actions.orders.order_answers import (
    CORRECTIONS,
    DELIVERY_CUE,
    DELIVERY_WORDS,
    PAYMENT_CUE,
    PAYMENT_WORDS,
    answers_elsewhere,
    choose,
    contact_anywhere,
    corrected_fields,
    names_a_correction,
    says_wrong,
    statements,
)
from actions.replies import (
    Reply,
    corrected_part,
    is_aside,
    is_drop,
    is_question,
    is_small_talk,
    read_confirmation,
)
from store.pickup import PickupStore, pickup_stores, store_by_key, store_named

PRODUCT_SLOTS = ("product", "product_size", "product_colour", "quantity")
CUSTOMER_SLOTS = ("customer_name", *ADDRESS_SLOTS, "contact")
PICKUP_SLOT = "pickup_store"
UNAVAILABLE_SLOT = "unavailable_product"
CHOICE_SLOTS = ("delivery_option", PICKUP_SLOT, "payment_method")
FORM_SLOTS = (*PRODUCT_SLOTS, *CUSTOMER_SLOTS, *CHOICE_SLOTS, "order_confirmed")
# Cleared after an order: a second order asks for a product again but not who the customer is.
PER_ORDER_SLOTS = (
    *PRODUCT_SLOTS,
    *CHOICE_SLOTS,
    "order_confirmed",
    "order_correction_pending",
    UNAVAILABLE_SLOT,
)
# Details said back when they change in passing (actions/orders/place.py `_say_back`).
_SAID_BACK = ("product_size", "product_colour", "quantity", "delivery_option", "payment_method")
# Answers typed freely (a name, a street): product words in them are not corrections.
FREE_TEXT_SLOTS = frozenset({"customer_name", *ADDRESS_SLOTS, "contact", "product"})
# The questions answered in free text (not the product: it is matched to the catalogue).
_ASKS_FREE_TEXT = frozenset(FREE_TEXT_SLOTS - {"product"})
# Slots whose answers are one or two words from a known set (buttons).
SHORT_ANSWER_SLOTS = frozenset(
    {"product_size", "product_colour", "quantity", "delivery_option", "payment_method"}
    | {PICKUP_SLOT}
)
_NUMBER = re.compile(r"(?<![\d.])(\d{1,4})(?![\d.])")
_NUMBER_WORDS = {
    "un": 1, "una": 1, "uno": 1, "one": 1, "a": 1, "single": 1, "dos": 2, "two": 2,
    "tres": 3, "three": 3, "cuatro": 4, "four": 4, "cinco": 5, "five": 5, "seis": 6, "six": 6,
    "siete": 7, "seven": 7, "ocho": 8, "eight": 8, "nueve": 9, "nine": 9, "diez": 10, "ten": 10,
}  # fmt: skip
# A pair of shoes is one item; "un par de camisetas" is two.
_PAIRS = re.compile(r"\b(par|pares|pair|pairs)\b")
_APOSTROPHE = re.compile(r"['’´`]")
_A_PAIR = re.compile(r"\b(a|un|one)\s+(par|pair)\b")
# Quantities said outright anywhere in the flow: "nada más uno", "just one", "2 pares", "x2".
_EXPLICIT_QUANTITY = re.compile(
    r"\b(nada mas|solo|solamente|nomas|just|only)\s+(un[oa]?|one|a|\d+)\b"
    r"|\b(un[oa]?|one|\d+)\s+(sol[oa]|nomas|nada mas|only)\b"  # "uno solo", "one only"
    r"|\b(\d+|un[oa]?|dos|tres|cuatro|cinco|a|one|two|three|four|five)\s+"
    r"(pares|par|pairs?|piezas?|pzas?|unidades|units?|pieces?|items?)\b"
    r"|\bx\s?(\d+)\b|\b(cantidad|quantity)\b"
    r"|\b(\d+|un[oa]?|dos|tres|cuatro|cinco|one|two|three|four|five)\s+(of them|de (esas|esos"
    r"|ellas|ellos))\b"
    r"|\b(que sean|sean|make it|make that)\s+(\d{1,2}|un[oa]?|dos|tres|cuatro|cinco|seis"
    r"|siete|ocho|nueve|diez|one|two|three|four|five|six|seven|eight|nine|ten)\b(?!\s*(cm|mm))"
)
# A question that buys: "can I buy/order …", "¿puedo pedir …?", "me das …?".
_BUYING = re.compile(
    r"\b(buy|order|get|purchase|comprar|pedir|llevar|encargar|apartar|me (das|mandas|vendes))"
    r"\b[^?]*\b(and|y|,)\b"
)
# A count before the words it counts: "12 black t-shirts", "dos playeras" (not "del 40").
_LEADING_COUNT = re.compile(
    r"(?<![\w.])(\d{1,3}|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|two|three|four|five"
    r"|six|seven|eight|nine|ten)\s+(?!(de|del|a|am|pm|hrs?|horas?|dias?|days?|pesos|mxn)\b)"
    r"(?=[a-z])"
)
# Cues that a size or colour in the message replaces the one chosen ("mejor 41", "make it L").
_CHANGE_CUE = re.compile(
    r"\b(mejor|cambia|cambialo|cambiala|cambiar|cambio|change|make it|instead|actually|en vez"
    r"|mas bien|talla|size|numero|color|colou?r|no era|rather|switch)\b"
)
# An address in the answer: its numbers and names are not sizes or colours.
_ADDRESS_WORDS = re.compile(
    r"\b(calle|av|avenida|col|colonia|cp|codigo postal|street|st|ave|avenue|road|rd|blvd"
    r"|boulevard|calzada|privada|manzana|lote|depto|apt|int|num)\b"
)
# "… me llamo Fernanda Ruiz", "… my name is Ana Lee": a name said anywhere in the answer.
_NAME_SAID = re.compile(
    r"\b(me llamo|mi nombre es|el nombre es|my name is|(?:the )?name is|name's|a nombre de"
    r"|under the name(?: of)?)\s+(?P<name>[^\W\d_][^,.;!?\n\d]*)",
    re.IGNORECASE,
)
# Where a name said in passing ends: "name is Daniel Kim and I'd like…", "a nombre de Jorge
# y lo recojo…". A name said in passing is at most this many words.
_NAME_ENDS = frozenset(
    {
        "y", "and", "pero", "but", "que", "quiero", "i", "want", "would", "like", "para",
        "por", "for", "con", "with", "en", "in", "at", "mi", "my", "email", "mail", "correo",
        "tel", "cel", "phone", "porfa", "pls", "please", "gracias", "thanks", "on", "of", "is",
        "was", "es",
    }
)  # fmt: skip
_NAME_WORDS = 4
# "me llamo Ana", "my name is Ana", "a nombre de Ana": the name is what follows.
_NAME_LEAD = re.compile(
    r"^\s*(me llamo|mi nombre es|soy|a nombre de|es para|para|my name is|i am|i'm|im|"
    r"it's|its|name:|nombre:|under|for)\s+",
    re.IGNORECASE,
)


def name_in_passing(said: str) -> str | None:
    """The name in what follows "me llamo", "name is"…, up to a word that starts the rest."""
    words: list[str] = []
    for word in said.split():
        if word.lower().strip("'") in _NAME_ENDS or len(words) == _NAME_WORDS:
            break
        words.append(word)
    return " ".join(words) or None


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


def quantity_in(
    tracker: Tracker, text: str, product: ProductView | None = None, use_entity: bool = True
) -> int | None:
    """A quantity from the `quantity` entity, digits, or a number word.

    For footwear a pair is one item ("un par" = 1, "2 pares" = 2); otherwise "un par" is two.
    """
    folded = fold(text)
    pairs = _PAIRS.search(folded)
    footwear = product is not None and product.category == "calzado"
    value = entity_value(tracker, "quantity") if use_entity else None
    if value is not None and value.strip().isdigit():
        return int(value)
    if _A_PAIR.search(folded):  # "a pair pls", "un par de playeras"
        return 1 if footwear else 2
    digits = _NUMBER.search(text)
    if digits:
        return int(digits.group(1))
    for word in folded.split():
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    if pairs:
        return 1 if footwear else 2
    return None


def leading_count(text: str, product: ProductView | None) -> int | None:
    """A number written before the words it counts ("12 black t-shirts", "dos playeras").

    Sizes are not counts ("talla 42" is taken out by the caller; a bare number that is one
    of the product's sizes is skipped).
    """
    for match in _LEADING_COUNT.finditer(fold(text)):
        word = match.group(1)
        value = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
        if value is None or (product is not None and word in product.sizes):
            continue
        return value
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


def colour_words(product: ProductView) -> dict[str, str]:
    """English colour names customers type, to the catalogue's Spanish name, for a product."""
    words = dict(COLOURS_EN)
    for variant in product.variants:
        words.setdefault(fold(variant.colour_en), variant.colour)
    return {word: spanish for word, spanish in words.items() if spanish in product.colours}


def named_size(product: ProductView, text: str, current: str | None) -> str | None:
    """A size of the product the text names; with several, the one that is not `current`.

    Apostrophes go first: "it's a lot" names no size S.
    """
    folded = f" {fold(_APOSTROPHE.sub('', text))} "
    named = [
        size
        for size in product.sizes
        if re.search(rf"(?<![\w]){re.escape(fold(size))}(?![\w])", folded)
    ]
    fresh = [size for size in named if size != current] or named
    return fresh[0] if len(fresh) == 1 else None


def named_colour(product: ProductView, text: str, current: str | None) -> str | None:
    """A colour of the product the text names (Spanish or English); not `current` if possible."""
    folded = f" {with_singulars(text)} "
    named = []
    for colour in sorted(product.colours, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(fold(colour))}(?![\w])", folded):
            named.append(colour)
            folded = folded.replace(fold(colour), " ")  # "azul marino" is not also "azul"
    for word, spanish in colour_words(product).items():
        if re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", folded) and spanish not in named:
            named.append(spanish)
    fresh = [colour for colour in named if colour != current] or named
    return fresh[0] if len(fresh) == 1 else None


def _around(entity: str, text: str) -> list[str]:
    """The entity with up to two words either side, widest first ("tenis urbanos blancos").

    A product entity may hold only part of a name ("tenis" of "tenis urbanos"); the words
    next to it in the message settle which product it is.
    """
    words = fold(text).split()
    part = fold(entity).split()
    if not part:
        return []
    for start in range(len(words) - len(part) + 1):
        if words[start : start + len(part)] == part:
            end = start + len(part)
            return [
                " ".join(words[max(0, start - before) : end + after])
                for before, after in ((2, 2), (0, 2), (2, 0), (0, 1), (1, 0))
            ]
    return []


def _clear(matches: list[ProductMatch]) -> bool:
    """One match, or a best match well ahead of the next."""
    if len(matches) == 1:
        return True
    return bool(matches) and matches[0].score >= 0.8 and matches[1].score < matches[0].score - 0.1


def pickup_slots(pickup: PickupStore) -> dict[str, Any]:
    """A pickup order is stored with the store's address."""
    return {
        PICKUP_SLOT: pickup.key,
        "delivery_street": pickup.street,
        "delivery_city": pickup.city,
        "delivery_postal_code": pickup.postal_code,
    }


class ValidatePlaceOrderForm(AddressValidation, FlowValidation):
    """Validates `place_order_form` (see the module docstring for what it asks and when)."""

    confirmation = "order_confirmed"
    hold_response = "utter_hold_order"
    own_intent = "place_order"

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
        """Every slot, minus variants a product lacks, a known contact, and pickup's address."""
        if dropped(tracker):
            return []
        product = chosen_product(tracker)
        slots = list(FORM_SLOTS)
        if product is not None and len(product.sizes) == 1:
            slots.remove("product_size")
        if product is not None and len(product.colours) == 1:
            slots.remove("product_colour")
        if channel_phone(tracker):
            slots.remove("contact")
        if tracker.get_slot("delivery_option") == DeliveryOption.PICKUP.value:
            slots = [slot for slot in slots if slot not in ADDRESS_SLOTS]
        else:
            slots.remove(PICKUP_SLOT)
        return slots

    # ------------------------------------------------------------------ extraction

    def _message(self, tracker: Tracker) -> tuple[str, str | None]:
        return latest(tracker)

    def _opening(self, tracker: Tracker) -> bool:
        """The message that started the flow ("quiero 2 zapatillas blancas talla 42")."""
        return tracker.get_slot("requested_slot") is None

    def _reading(self, tracker: Tracker, slot: str) -> bool:
        """Whether the latest message may fill `slot`: asked for it, or the opening request.

        A short answer to a choice ("Express", "OXXO", "white") is read whatever intent the
        NLU gave it: alone, such words look like questions about shipping or payment.
        """
        text, intent = self._message(tracker)
        if tracker.get_slot("requested_slot") == slot:
            # "standard shipping, I'll pay at OXXO" may look like a FAQ; it is no question.
            # "express pls. how much extra is that?" chooses in its first sentence.
            stated = statements(text) if is_question(text) else text
            short_choice = (
                slot in SHORT_ANSWER_SLOTS
                and bool(stated)
                and (len(stated.split()) <= 4 or intent == "faq")
            )
            return short_choice or intent not in ("faq", "human_handoff", "deny", "out_of_scope")
        return self._opening(tracker) and tracker.get_slot(slot) is None

    def _unavailable(self, tracker: Tracker) -> ProductView | None:
        """The sold-out product the customer asked for last in this order, if any."""
        key = slot_text(tracker, UNAVAILABLE_SLOT)
        if not key or tracker.get_slot("requested_slot") != "product":
            return None
        try:
            return store().get_product(key)
        except ProductNotFound:
            return None

    def _detail_named(self, tracker: Tracker) -> bool:
        """Whether a size or colour named in the message counts.

        At a product question, at the summary, in the opening request, or with a change cue
        ("mejor en 41") anywhere but in a free-text answer (a street may be called "Blanco").
        """
        requested = tracker.get_slot("requested_slot")
        if requested is None or requested in (*PRODUCT_SLOTS[1:], "order_confirmed"):
            return True
        text = fold(self._message(tracker)[0])
        if requested in ADDRESS_SLOTS or _ADDRESS_WORDS.search(text):
            return False
        return bool(_CHANGE_CUE.search(text))

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The product entity, else the text; one clear match, or buttons to choose."""
        text, intent = self._message(tracker)
        unavailable = self._unavailable(tracker)
        if not self._reading(tracker, "product") and not (
            unavailable is not None and intent in ("deny", "inform")
        ):
            return {}
        if is_small_talk(text, intent) or is_drop(text, intent):
            return {}
        matches = self._product_matches(tracker, text)
        if unavailable is not None and (not matches or matches[0].product.id == unavailable.id):
            # "¿ni en negro?" about the sold-out product: it is sold out in every variant.
            dispatcher.utter_message(
                response="utter_product_out_of_stock",
                product_name=product_name(unavailable, tracker),
            )
            return {UNAVAILABLE_SLOT: unavailable.id}
        if not matches:
            if tracker.get_slot("requested_slot") == "product":
                dispatcher.utter_message(response="utter_product_not_found")
            return {}
        if _clear(matches):
            return {"product": matches[0].product.id}
        english = language(tracker) == "en"
        buttons = [
            {"title": m.product.name_en if english else m.product.name, "payload": m.product.name}
            for m in matches
        ]
        dispatcher.utter_message(response="utter_choose_product", buttons=buttons)
        return {}

    @staticmethod
    def _product_matches(tracker: Tracker, text: str) -> list[ProductMatch]:
        """Catalogue matches for the product entity, or for the whole text when clearer.

        The entity may hold only part of the name ("t-shirts" of "some basic t-shirts"),
        which fits several products; the whole message then settles it, if it names one of
        them clearly.
        """
        entity = entity_value(tracker, "product")
        matches = store().find_products(entity or text, limit=5)
        if entity and matches and not _clear(matches):
            named = {match.product.id for match in matches}
            for query in (text, *_around(entity, text)):
                wider = store().find_products(query, limit=5)
                if _clear(wider) and wider[0].product.id in named:
                    return wider
        return matches

    async def extract_product_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A size of the chosen product named in the message (a new one replaces the old)."""
        product = chosen_product(tracker)
        if product is None or not self._detail_named(tracker):
            return {}
        current = slot_text(tracker, "product_size")
        text = self._message(tracker)[0]
        # "la L, no, perdón, la XL": two sizes, the one after the correction is meant.
        size = named_size(product, text, current) or named_size(
            product, corrected_part(text), current
        )
        return {"product_size": size} if size and size != current else {}

    async def extract_product_colour(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A colour of the chosen product named in the message (Spanish or English)."""
        product = chosen_product(tracker)
        if product is None or not self._detail_named(tracker):
            return {}
        current = slot_text(tracker, "product_colour")
        text = self._message(tracker)[0]
        # "negra... no, mejor gris": two colours, the one after the correction is meant.
        colour = named_colour(product, text, current) or named_colour(
            product, corrected_part(text), current
        )
        return {"product_colour": colour} if colour and colour != current else {}

    async def extract_quantity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """How many: the answer to "how many?", or a quantity said outright anywhere."""
        text, intent = self._message(tracker)
        requested = tracker.get_slot("requested_slot")
        product = chosen_product(tracker)
        # "talla 42", "las del 43": a size, whatever the entity extractor took it for.
        without_sizes = re.sub(r"\b(talla|size|numero|del|en)\s*\d+", " ", text, flags=re.I)
        entity = entity_value(tracker, "quantity")
        if product is not None and entity is not None and entity in product.sizes:
            entity = None
        if requested == "quantity":
            if intent in ("faq", "human_handoff", "out_of_scope") or is_small_talk(text, intent):
                return {}
            quantity = quantity_in(tracker, text, product)
        elif requested in FREE_TEXT_SLOTS - {"product"}:
            return {}
        elif _EXPLICIT_QUANTITY.search(fold(text)) or _PAIRS.search(fold(text)):
            # "nada más uno", "just one", "2 pares".
            quantity = quantity_in(tracker, without_sizes, product, use_entity=entity is not None)
        elif entity is not None and entity.isdigit() and self._opening(tracker):
            quantity = int(entity)
        elif self._opening(tracker) and tracker.get_slot("quantity") is None:
            quantity = leading_count(without_sizes, product)  # "I need 12 black t-shirts"
        else:
            return {}
        current = tracker.get_slot("quantity")
        if quantity is None or (current is not None and int(current) == quantity):
            return {}
        if requested != "quantity" and product is not None and str(quantity) in product.sizes:
            return {}  # "make it 42" for shoes is a size
        return {"quantity": float(quantity)}

    async def extract_customer_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "a nombre de quién?" (a person entity, else the text)."""
        text = self._message(tracker)[0]
        said = _NAME_SAID.search(text)
        if tracker.get_slot("requested_slot") != "customer_name":
            # Said in passing, in the opening request or in another answer ("just one pair.
            # name is Daniel Kim"): taken once, so the name question is not asked after it.
            if said is None or tracker.get_slot("customer_name"):
                return {}
            name = name_in_passing(said.group("name"))
            return {"customer_name": name} if name else {}
        if not (said or self._reading(tracker, "customer_name")):
            return {}
        if read_confirmation(text) is Reply.YES:
            return {}  # "ya, sí va, confirmo" is no name
        if said:  # "jaja perdón se me cayó el cel. me llamo Fernanda Ruiz"
            text = said.group("name")
        # The words only: a name may well be classified as a greeting ("Kevin O'Brien").
        elif is_small_talk(text) or is_aside(text) or is_question(text):
            return {}  # "btw am I talking to a bot?" is no name
        _, text = contact_anywhere(text)  # "Priya Shah, phone 55 4433 2211"
        name, street = name_and_street(text)
        if not name:  # the address, answered to the name question: the name is asked again
            return {"delivery_street": street} if street else {}
        slots: dict[str, Any] = {"customer_name": entity_value(tracker, "person") or name}
        if street and not tracker.get_slot("delivery_street"):
            slots["delivery_street"] = street  # "Diego Álvarez, Av. Reforma 222, Juárez, …"
        return slots

    async def extract_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the contact question, validated in validate_contact.

        A phone or email inside the answer to the name or address question is taken too
        ("Calle Amsterdam 210, Condesa. mi fono 55 3344 9988"), and so is one in the opening
        request or any other answer while none is known ("…name is Laura Chen, email
        laura@…"); a choice answered to the contact question ("estándar", "con tarjeta") is
        left to its own slot.
        """
        text, intent = self._message(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested != "contact" and (
            requested in _ASKS_FREE_TEXT or not tracker.get_slot("contact")
        ):
            contact, _ = contact_anywhere(text)
            return {"contact": contact} if contact else {}
        if requested != "contact" or not self._reading(tracker, "contact"):
            return {}
        if is_small_talk(text, intent):
            return {}
        contact, _ = contact_anywhere(text)
        entity = entity_value(tracker, "email") or entity_value(tracker, "phone")
        if contact is None and entity is None and not re.search(r"\d|@", text):
            # "con tarjeta no más", "déjame pensarlo": no contact at all (a choice is taken
            # by its own slot; the form says the rest).
            return {}
        return {"contact": entity or contact or text}

    async def extract_delivery_option(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Standard, express or pickup: from the buttons or the words.

        Picking up in a store may be said before the question, instead of an address
        ("no necesito envío, paso a la tienda de la Roma").
        """
        text, _ = self._message(tracker)
        requested = tracker.get_slot("requested_slot")
        if is_question(text) and not (requested is None and _BUYING.search(fold(text))):
            # "is pickup free?" asks about pickup (the rules answer it); "express pls. how
            # much extra is that?" chooses, and asks besides. A buying question chooses
            # ("can I buy 3 tees and pick them up at Roma Norte?"); "do u do express to
            # Monterrey?" only asks.
            text = statements(text)
        option = None
        if self._reading(tracker, "delivery_option"):
            option = choose(DELIVERY_WORDS, text)
        elif requested == "payment_method" and DELIVERY_CUE.search(fold(text)):
            option = choose(DELIVERY_WORDS, text)  # "tarjeta, y que sea express"
        elif requested in _ASKS_FREE_TEXT:
            option = answers_elsewhere(text).get("delivery_option")
        if (
            option is None
            and chosen_product(tracker) is not None
            and requested
            in (
                *ADDRESS_SLOTS,
                "delivery_option",
                "order_confirmed",
            )
        ):
            option = choose({DeliveryOption.PICKUP: DELIVERY_WORDS[DeliveryOption.PICKUP]}, text)
        if option is None or option == tracker.get_slot("delivery_option"):
            return {}
        return {"delivery_option": option}

    async def extract_pickup_store(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The store named (or tapped) once the customer picks up."""
        if tracker.get_slot("delivery_option") != DeliveryOption.PICKUP.value:
            return {}
        pickup = store_named(self._message(tracker)[0])
        return {PICKUP_SLOT: pickup.key} if pickup else {}

    async def extract_payment_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A payment method the store accepts, from the buttons or the words.

        Also said with the delivery ("express, y pago con tarjeta"), in passing at another
        choice ("pago con PayPal"), or alone at the name or address question.
        """
        text = self._message(tracker)[0]
        requested = tracker.get_slot("requested_slot")
        if is_question(text) and not (requested is None and _BUYING.search(fold(text))):
            text = statements(text)  # "¿puedo pagar en OXXO?" asks; the FAQ answers it
        if not text:
            return {}
        if (
            self._reading(tracker, "payment_method")
            or requested in ("delivery_option", PICKUP_SLOT)
            or (requested in SHORT_ANSWER_SLOTS and PAYMENT_CUE.search(fold(text)))
        ):
            method = choose(PAYMENT_WORDS, text)
        elif requested == "contact" and not re.search(r"\d|@", text):
            method = choose(PAYMENT_WORDS, text)  # "ya, entonces con tarjeta no más"
        elif requested in _ASKS_FREE_TEXT:
            method = answers_elsewhere(text).get("payment_method")
        else:
            return {}
        if method is None or method == tracker.get_slot("payment_method"):
            return {}
        return {"payment_method": method}

    # ------------------------------------------------------------------ earlier answers

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The shared handling, plus answers about earlier questions (see `_fix_earlier`).

        A value given earlier that changes in passing ("no espera, cambia el color a azul
        marino" at the payment question), or a datum that answers a later question, is said
        back so the customer knows it was taken; the pending question is asked again.
        """
        requested = tracker.get_slot("requested_slot")
        mid_form = requested not in (None, self.confirmation) and not dropped(tracker)
        if mid_form:
            fixed = await self._fix_earlier(dispatcher, tracker, domain)
            if fixed is not None:
                return fixed
        before = {slot: tracker.get_slot(slot) for slot in (*_SAID_BACK, "contact")}
        events = await super().run(dispatcher, tracker, domain)
        if mid_form:
            self._say_back(dispatcher, tracker, requested, before, events)
            self._answer_besides(dispatcher, tracker, requested, events)
        return events

    @staticmethod
    def _answer_besides(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str,
        events: list[EventType],
    ) -> None:
        """An answer that also asks ("express pls. how much extra is that?") gets both.

        The question's FAQ answer is given when the answer filled the question asked (else
        the rules answer the question, and the form asks again).
        """
        text = latest(tracker)[0]
        filled = any(
            e.get("event") == "slot" and e.get("name") == requested and e.get("value") is not None
            for e in events
        )
        if filled and is_question(text):
            answer = faq_answer(tracker)
            if answer:
                dispatcher.utter_message(response=answer)

    def _say_back(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str,
        before: dict[str, Any],
        events: list[EventType],
    ) -> None:
        """Says which earlier answer changed, or that an answer to a later question was kept."""
        set_now = {
            e["name"]: e.get("value")
            for e in events
            if e.get("event") == "slot" and e.get("name") in before and e.get("name") != requested
        }
        changed = {
            slot: value
            for slot, value in set_now.items()
            if value is not None and before[slot] is not None and value != before[slot]
        }
        if changed:
            detail = describe(changed, tracker)
            if detail:
                dispatcher.utter_message(response="utter_order_detail_changed", detail=detail)
            return
        if requested in _ASKS_FREE_TEXT and any(
            value is not None and before[slot] is None for slot, value in set_now.items()
        ):
            dispatcher.utter_message(response="utter_answer_noted")

    async def _fix_earlier(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """An earlier answer said to be wrong, at another question.

        "La talla está mal" (no new value): the size is forgotten and asked next. At a
        question answered in free text (name, address, contact), "mejor en L" is a new size,
        not a name; elsewhere new values are read by the extract methods as usual.
        """
        text = self._message(tracker)[0]
        requested = tracker.get_slot("requested_slot")
        free_text = requested in _ASKS_FREE_TEXT
        if free_text and re.search(r"\d", text) and not says_wrong(text):
            return None
        fields = [
            slot
            for slot in corrected_fields(text)
            if slot != requested and tracker.get_slot(slot) is not None
        ]
        values = self._new_values(tracker, text) if free_text and says_wrong(text) else {}
        if values:
            unanswered = _still_open(tracker, requested)
            validated: dict[str, Any] = {}
            for slot, value in values.items():
                tracker.slots[slot] = value
                method = getattr(self, f"validate_{slot}", None)
                result = await method(value, dispatcher, tracker, domain) if method else {}
                validated.update(result or {slot: value})
            contact = contact_anywhere(text)[0] if requested == "contact" else None
            if contact:  # "size 43 is wrong, I need a 42. my email is laura@…"
                validated.update(await self.validate_contact(contact, dispatcher, tracker, domain))
            kept = {slot: validated.get(slot) for slot in values if validated.get(slot)}
            detail = describe(kept, tracker)
            if detail:
                dispatcher.utter_message(response="utter_order_detail_changed", detail=detail)
            events: list[EventType] = [*unanswered, *(SlotSet(k, v) for k, v in validated.items())]
            return await self.then_ask(events, dispatcher, tracker, domain)
        if not fields or (free_text and re.search(r"\d", text)):
            return None
        if not free_text and self._new_values(tracker, text):
            return None  # "mejor en L" at the quantity question: read as usual
        unanswered = _still_open(tracker, requested) if free_text else []
        forget = _forgotten(fields[0], text)
        dispatcher.utter_message(response="utter_order_correction")
        for slot in forget:
            tracker.slots[slot] = None
        events = [*unanswered, *(SlotSet(slot, None) for slot in forget)]
        return await self.then_ask(events, dispatcher, tracker, domain)

    def _new_values(self, tracker: Tracker, text: str) -> dict[str, Any]:
        """New values the text gives for product details and choices already answered."""
        product = chosen_product(tracker)
        requested = tracker.get_slot("requested_slot")
        found: dict[str, Any] = {}
        if product is not None:
            size = named_size(product, text, slot_text(tracker, "product_size"))
            colour = named_colour(product, text, slot_text(tracker, "product_colour"))
            found.update({"product_size": size, "product_colour": colour})
        folded = fold(text)
        if _EXPLICIT_QUANTITY.search(folded):
            found["quantity"] = quantity_in(tracker, text, product, use_entity=False)
        if DELIVERY_CUE.search(folded):
            found["delivery_option"] = choose(DELIVERY_WORDS, text)
        if PAYMENT_CUE.search(folded) or choose(PAYMENT_WORDS, text):
            found["payment_method"] = choose(PAYMENT_WORDS, text)
        return {
            slot: value
            for slot, value in found.items()
            if value is not None
            and slot != requested
            and tracker.get_slot(slot) is not None
            and value != tracker.get_slot(slot)
        }

    # ------------------------------------------------------------------ the summary

    async def confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """At the summary: corrections first, then only a clear yes places the order.

        A correction that brings its value ("make it L") is applied and the summary shown
        again; the yes/no/wait reading is actions/orders/flow.py's.
        """
        text, intent = self._message(tracker)
        changed = await self._corrections(dispatcher, tracker, domain)
        if changed is not None:
            return changed
        reply = read_confirmation(text, intent)
        if reply in (Reply.HOLD, Reply.QUESTION) and not says_wrong(text):
            # "espérame, le pregunto a mi esposa si le late el color", "how long do I have to
            # pay at OXXO?": nothing to fix; a hold, or a question the FAQ answers.
            return await super().confirm(dispatcher, tracker, domain)
        if names_a_correction(text) and reply is not Reply.YES:  # "the size is wrong"
            return await self.declined(dispatcher, tracker, domain)
        if is_drop(text):  # "olvídalo"; a bare "no" here asks what to fix instead
            return [SlotSet(DROPPED_SLOT, True), SlotSet("requested_slot", None)]
        return await super().confirm(dispatcher, tracker, domain)

    async def _corrections(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """New values named at the summary ("make it L", "cambia el color a negro")."""
        found: dict[str, Any] = {}
        for slot in ("product_size", "product_colour", "quantity", "delivery_option"):
            found.update(await getattr(self, f"extract_{slot}")(dispatcher, tracker, domain))
        text = self._message(tracker)[0]
        payment = choose(PAYMENT_WORDS, text)
        if payment and payment != tracker.get_slot("payment_method"):
            found["payment_method"] = payment
        if not found:
            return None
        tracker.slots.update(found)
        validated: dict[str, Any] = {}
        for slot, value in found.items():
            method = getattr(self, f"validate_{slot}", None)
            result = await method(value, dispatcher, tracker, domain) if method else {slot: value}
            validated.update(result)
            tracker.slots.update(result)
        dispatcher.utter_message(response="utter_order_correction")
        return [*(SlotSet(k, v) for k, v in validated.items()), SlotSet("order_confirmed", None)]

    async def declined(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A no names what to fix ("no, la dirección es otra"), which is asked again.

        A bare no gets "what do you want to fix?" with buttons.
        """
        text = fold(self._message(tracker)[0])
        for slot, pattern in CORRECTIONS:
            if re.search(pattern, text):
                forget = _forgotten(slot, text)
                dispatcher.utter_message(response="utter_order_correction")
                return [SlotSet("order_confirmed", None), *(SlotSet(n, None) for n in forget)]
        return [SlotSet("order_confirmed", None), SlotSet("order_correction_pending", True)]

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
            return {"product": None, UNAVAILABLE_SLOT: product.id}
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
        """A name: letters, no digits ("mejor en 41" is not a name), not too long, no markup."""
        if self._answered_elsewhere(tracker):
            return {"customer_name": None}
        name = clean(_NAME_LEAD.sub("", str(slot_value or "")).strip(" .,;"), 100)
        if name is None or not re.search(r"[^\W\d_]", name) or re.search(r"\d", name):
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

    async def validate_delivery_street(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The street, unless the answer says the order is picked up instead."""
        if choose({DeliveryOption.PICKUP: DELIVERY_WORDS[DeliveryOption.PICKUP]}, str(slot_value)):
            return {"delivery_street": None}
        if self._answered_elsewhere(tracker):
            return {"delivery_street": None}
        return await super().validate_delivery_street(slot_value, dispatcher, tracker, domain)

    async def validate_delivery_city(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The city, unless the answer was a phone, a payment method or a delivery option."""
        if self._answered_elsewhere(tracker):
            return {"delivery_city": None}
        return await super().validate_delivery_city(slot_value, dispatcher, tracker, domain)

    async def validate_delivery_postal_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The postal code, unless the answer was a phone (ten digits are no postal code)."""
        if self._answered_elsewhere(tracker):
            return {"delivery_postal_code": None}
        return await super().validate_delivery_postal_code(slot_value, dispatcher, tracker, domain)

    def address_text(self, answer: str) -> str:
        """The answer without a phone or email in it (taken as the contact)."""
        return contact_anywhere(answer)[1]

    def _answered_elsewhere(self, tracker: Tracker) -> bool:
        """Whether the answer to this free-text question belongs to another one.

        extract_contact, extract_payment_method and extract_delivery_option take it; the
        question the form asked is asked again.
        """
        requested = tracker.get_slot("requested_slot")
        return requested in _ASKS_FREE_TEXT and bool(answers_elsewhere(self._message(tracker)[0]))

    async def validate_delivery_option(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A delivery option; pickup takes the store's address (named now, or asked next)."""
        if slot_value != DeliveryOption.PICKUP.value:
            if tracker.get_slot(PICKUP_SLOT):  # no longer picked up: the address is asked
                return {"delivery_option": slot_value, PICKUP_SLOT: None, **_NO_ADDRESS}
            return {"delivery_option": slot_value}
        pickup = store_named(self._message(tracker)[0]) or self._store_near(tracker)
        if pickup is None:
            return {"delivery_option": slot_value, PICKUP_SLOT: None, **_NO_ADDRESS}
        return {"delivery_option": slot_value, **pickup_slots(pickup)}

    @staticmethod
    def _store_near(tracker: Tracker) -> PickupStore | None:
        """The store in the city of the address the customer already gave, if there is one."""
        if tracker.get_slot(PICKUP_SLOT):
            return store_by_key(slot_text(tracker, PICKUP_SLOT))
        given = " ".join(str(tracker.get_slot(name) or "") for name in ADDRESS_SLOTS[:2])
        return store_named(given) if given.strip() else None

    async def validate_pickup_store(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """One of the pickup stores; its address becomes the order's."""
        pickup = store_by_key(str(slot_value))
        return pickup_slots(pickup) if pickup else {PICKUP_SLOT: None}


_NO_ADDRESS = {name: None for name in ADDRESS_SLOTS}


def name_and_street(text: str) -> tuple[str, str | None]:
    """A name answered together with the address: "Diego Álvarez, Av. Reforma 222, Juárez".

    Split at the first comma when the part before it has no digits and the part after it
    starts like a street (letters and a number); otherwise the whole answer is the name.
    """
    head, _, tail = text.partition(",")
    if looks_like_street(head):
        return "", text.strip(" .")  # no name at all: "Av. Vallarta 1500, Guadalajara"
    if tail and not re.search(r"\d", head) and looks_like_street(tail.split(",")[0]):
        return head.strip(" ."), tail.strip(" .")
    return text.strip(" ."), None


def _still_open(tracker: Tracker, requested: str) -> list[EventType]:
    """Empties the question asked when the answer was a correction of another one.

    Rasa's from_text mapping has already put the correction itself into the slot asked for
    ("ah oye, mejor q sean blancas" as the street); the question stays open.
    """
    if tracker.get_slot(requested) is None:
        return []
    tracker.slots[requested] = None
    return [SlotSet(requested, None)]


def _forgotten(field: str, text: str = "") -> tuple[str, ...]:
    """The slots to ask again when `field` is said to be wrong (`text` says which part)."""
    if field == "delivery_street":
        return address_parts_named(text)
    if field == "product":
        return PRODUCT_SLOTS
    if field == "delivery_option":
        return ("delivery_option", PICKUP_SLOT)
    return (field,)


def describe(values: dict[str, Any], tracker: Tracker) -> str:
    """Changed details as the customer reads them: "talla L", "azul marino", "3 piezas"."""
    lang = language(tracker)
    product = chosen_product(tracker)
    parts = []
    for slot, value in values.items():
        if slot == "product_size":
            parts.append(f"{'size' if lang == 'en' else 'talla'} {value}")
        elif slot == "product_colour":
            english = {v.colour: v.colour_en for v in product.variants} if product else {}
            parts.append(english.get(str(value), str(value)) if lang == "en" else str(value))
        elif slot == "quantity":
            count = int(float(value))
            parts.append(f"{count} {'items' if lang == 'en' else 'piezas'}")
        elif slot == "delivery_option":
            parts.append(DELIVERY_NAMES[lang].get(str(value), str(value)))
        elif slot == "payment_method":
            parts.append(PAYMENT_NAMES[lang].get(str(value), str(value)))
    return ", ".join(parts)


DELIVERY_NAMES = {
    "es": {"standard": "envío estándar", "express": "envío express", "pickup": "recoger en tienda"},
    "en": {
        "standard": "standard shipping",
        "express": "express shipping",
        "pickup": "store pickup",
    },
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
        """The summary with totals, "what to fix?" after a bare "no", nothing after "wait"."""
        if tracker.get_slot(HELD_SLOT):
            return [SlotSet(HELD_SLOT, None)]
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


class ActionAskPickupStore(Action):
    """Asks which store the order is picked up at, one button per store."""

    def name(self) -> str:
        """Rasa asks for `pickup_store` with this action."""
        return "action_ask_pickup_store"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The stores as buttons (the payload is the store's key)."""
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_ask_pickup_store",
            buttons=[{"title": s.name(lang), "payload": s.key} for s in pickup_stores()],
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
        reset: list[EventType] = [*(SlotSet(name, None) for name in PER_ORDER_SLOTS), *flow_end()]
        if dropped(tracker) or tracker.get_slot("order_confirmed") is not True:
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
