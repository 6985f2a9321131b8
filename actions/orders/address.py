"""Delivery address slots shared by the order forms: street, city, postal code.

Forms that collect an address (change an order's address, place an order) list
`delivery_street`, `delivery_city` and `delivery_postal_code` and mix `AddressValidation`
into their validator. A customer who answers the street question with the whole address
("Av. Juárez 1200, Centro, Puebla 72000") is not asked for the city and postal code again:
both are taken from that answer when present (the city from the NLU's `city` entity, or as
the last part of a "street, neighbourhood, city" address).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import Address, InvalidAddress, normalize_text
from actions.commerce.verification import validate_address
from actions.orders.common import entity_value
from actions.replies import is_aside, is_small_talk

ADDRESS_SLOTS = ("delivery_street", "delivery_city", "delivery_postal_code")
_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_POSTAL_LABEL = re.compile(
    r"\b(c\.?\s?p\.?|codigo postal|código postal|postal code|zip( code)?)\b", re.I
)
_MARKUP = re.compile(r"[<>{}]")


def clean(text: Any, limit: int) -> str | None:
    """One line of the customer's text, or None when empty, too long or markup-like."""
    value = " ".join(str(text or "").split())
    if not value or len(value) > limit or _MARKUP.search(value):
        return None
    return value


def city_in(address: str) -> str | None:
    """The city of a whole address written as "street, neighbourhood, city[, postal code]".

    Only with at least three comma-separated parts (after the postal code): "Calle Durango
    210, Roma Norte" names a neighbourhood, not a city, and the question is asked.
    """
    parts = []
    for part in re.split(r"[,;\n]", address):
        part = _POSTAL_LABEL.sub(" ", _POSTAL_CODE.sub(" ", part)).strip(" .")
        if part:
            parts.append(part)
    if len(parts) < 3 or re.search(r"\d", parts[-1]):
        return None
    return clean(parts[-1], 100)


_PARTS = (
    (
        "delivery_street",
        r"\b(calle|numero|num|street|number|avenida|av|colonia|col|neighbou?rhood)\b",
    ),
    ("delivery_city", r"\b(ciudad|city|municipio|estado|town)\b"),
    ("delivery_postal_code", r"\b(postal|cp|zip)\b"),
)
# A new address said in the request itself: "cambia la dirección del 10006 a Calle Hidalgo
# 12, Centro", "change the address for 10005 to Av. Juárez 88, Mexico City".
_NEW_ADDRESS_LEAD = re.compile(
    r"(?:\b(?:to|a|por|hacia|es|is|now|ahora|nueva|new)\b|:)\s+(?=\w)", re.I
)
# Politeness and asides after an address: "… 44100 xfa", "…, gracias!", "… no 12".
_TRAILING_CHAT = re.compile(
    r"([\s,.]+(x ?fa|xfavor|porfa|porfis|por favor|pls|plz|please|gracias|thanks|thx|ty)\W*"
    r"|\s+(no|not|y no|en vez de|instead of)\s+(el |la )?\w+\W*)+$",
    re.IGNORECASE,
)
# "lo demás igual", "the rest is fine": the other parts of the address stay.
_REST_STAYS = re.compile(
    r",?\s*\b(y\s+)?(lo demas|todo lo demas|el resto|the rest|everything else)\b.*$", re.I
)


def corrected_street(text: str, current: str) -> str | None:
    """A new street line given as a correction, merged with the rest of `current`.

    "me equivoqué en el número, es Av. Vallarta 1200, lo demás igual" with the current
    "Av. Vallarta 1020, col Americana, Guadalajara" → "Av. Vallarta 1200, col Americana,
    Guadalajara": a street line alone replaces only the street line.
    """
    new = address_in_request(text)
    if new is None and looks_like_street(text.split(",")[0]):
        new = text  # the street line alone: "Av. Vallarta 1200"
    if new is None:
        return None
    new = _REST_STAYS.sub("", new).strip(" ,.")
    if not new:
        return None
    if "," not in new and "," in current:
        return f"{new}, {current.split(',', 1)[1].strip()}"
    return new


# Words of the request itself, never of the address that follows it.
_REQUEST_WORDS = re.compile(r"\b(direcci\w*|address|pedido|order|orden|cambi\w*|change)\b")


def address_parts_named(text: str) -> tuple[str, ...]:
    """The parts of the address a correction names ("la calle está mal": the street only).

    Naming none ("la dirección está mal") means all of it.
    """
    folded = normalize_text(text)
    named = tuple(slot for slot, pattern in _PARTS if re.search(pattern, folded))
    return named or ADDRESS_SLOTS


def address_in_request(text: str) -> str | None:
    """The new address a request already gives, from its last lead word on, if any.

    Only a part that looks like a street line (letters and a number) counts, so "del
    pedido 10006 a Guadalajara" gives no address.
    """
    leads = list(_NEW_ADDRESS_LEAD.finditer(text))
    for lead in reversed(leads):
        candidate = clean(_TRAILING_CHAT.sub("", text[lead.end() :]), 200)
        if (
            candidate
            and looks_like_street(candidate.split(",")[0])
            and not _REQUEST_WORDS.search(normalize_text(candidate))
        ):
            return candidate.rstrip(" .!")
    return None


def address_from_slots(tracker: Tracker, country: str = "MX") -> Address | None:
    """The collected address, validated by the store's rules, or None if it is not valid."""
    street, city, postal_code = (tracker.get_slot(name) for name in ADDRESS_SLOTS)
    try:
        return validate_address(Address(str(street), str(city), str(postal_code), country))
    except InvalidAddress:
        return None


def _chatter(text: Any, tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """Small talk at an address question ("👍", "ok gracias"): acknowledged, not an address."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if is_small_talk(str(text or ""), intent):
        dispatcher.utter_message(response="utter_form_small_talk")
        return True
    if is_aside(str(text or ""), intent):
        dispatcher.utter_message(response="utter_form_aside")
        return True
    return False


def looks_like_street(text: str) -> bool:
    """A street line has a number and letters ("Calle Orizaba 101", "Lincoln 250")."""
    return bool(re.search(r"\d", text)) and bool(re.search(r"[^\W\d_]{3,}", text))


class AddressValidation:
    """`validate_delivery_*` methods for a FormValidationAction (see the module docstring).

    Whichever of the three questions was asked, the answer is read for all three: a whole
    address answered to "which city?" fills the street too, and "CDMX 11560" fills the city
    and the postal code.
    """

    def address_text(self, answer: str) -> str:
        """The part of an answer that is about the address (forms may strip other data)."""
        return answer

    async def validate_delivery_street(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The street line; a postal code or city in the same answer fills those too."""
        if _chatter(slot_value, tracker, dispatcher):
            return {"delivery_street": None}
        street = clean(self.address_text(str(slot_value or "")), 200)
        if street is None or not re.search(r"[^\W\d_]{2,}", street):  # "8187654321" is no street
            dispatcher.utter_message(response="utter_address_invalid")
            return {"delivery_street": None}
        slots: dict[str, Any] = {"delivery_street": street}
        postal_code = _POSTAL_CODE.search(street)
        if postal_code and not tracker.get_slot("delivery_postal_code"):
            slots["delivery_postal_code"] = postal_code.group(1)
        city = entity_value(tracker, "city") or city_in(street)
        if city and not tracker.get_slot("delivery_city"):
            slots["delivery_city"] = city
        return slots

    async def validate_delivery_city(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The city as the NLU recognized it, or as typed; a whole address fills the rest."""
        if _chatter(slot_value, tracker, dispatcher):
            return {"delivery_city": None}
        # The whole answer, not only the city entity Rasa mapped: "CDMX 11560" has a
        # postal code, and a whole address may answer "which city?".
        text = self.address_text(str((tracker.latest_message or {}).get("text") or slot_value))
        if city_in(text) and looks_like_street(text.split(",")[0]):
            # "Calle Orizaba 101, Roma Norte, CDMX, 06700" answered to "which city?"
            return await self.validate_delivery_street(text, dispatcher, tracker, domain)
        slots: dict[str, Any] = {}
        postal_code = _POSTAL_CODE.search(text)
        if postal_code and not tracker.get_slot("delivery_postal_code"):
            slots["delivery_postal_code"] = postal_code.group(1)
        city = entity_value(tracker, "city") or clean(
            _POSTAL_LABEL.sub(" ", _POSTAL_CODE.sub(" ", text)).strip(" ,."), 100
        )
        if city is None:
            dispatcher.utter_message(response="utter_address_invalid")
        return {**slots, "delivery_city": city}

    async def validate_delivery_postal_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Five digits (Mexican postal codes), found anywhere in the answer."""
        if _chatter(slot_value, tracker, dispatcher):
            return {"delivery_postal_code": None}
        match = _POSTAL_CODE.search(self.address_text(str(slot_value or "")))
        if match is None:
            dispatcher.utter_message(response="utter_postal_code_invalid")
            return {"delivery_postal_code": None}
        return {"delivery_postal_code": match.group(1)}
