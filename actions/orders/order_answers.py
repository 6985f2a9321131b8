"""Reading what a customer's answer in the buying flow says, whatever question it answers.

People answer the question they have in mind, not always the one asked: "express, y pago
con tarjeta" to the delivery question, their phone number to the address question, "la
talla está mal" to the postal-code question. These pure functions read such answers (the
words of each choice, the fields a correction names); actions/orders/place.py decides what
to do with them.
"""

from __future__ import annotations

import re
from enum import Enum

from actions.commerce.backend import DeliveryOption, PaymentMethod
from actions.commerce.verification import normalize_email, normalize_phone
from actions.orders.catalogue import fold
from actions.replies import is_question

DELIVERY_WORDS: dict[Enum, str] = {
    DeliveryOption.PICKUP: (
        r"recog|recoj|paso (a|por)|pasar (a|por)|voy por|ir por|pick(ing)? ?(it|them|em|those"
        r"|these|that|the order)? ?up|pickup|collect|en (la )?tienda|in store|in-store"
        r"|at (the|your) \w* ?store|sucursal|no necesito envio"
    ),
    DeliveryOption.EXPRESS: r"expres|rapid|urgent|fast|next day|1 dia",
    DeliveryOption.STANDARD: r"estandar|normal|standard|regular|barat|cheap|gratis|free",
}
PAYMENT_WORDS: dict[Enum, str] = {
    PaymentMethod.MERCADO_PAGO: r"mercado ?pago|\bmercado\b",
    PaymentMethod.PAYPAL: r"paypal|pay pal",
    PaymentMethod.SPEI: r"spei|transferencia|transfer",
    PaymentMethod.OXXO: r"oxxo|efectivo|cash",
    PaymentMethod.CARD: r"tarjeta|\bcard\b|credito|debito|visa|master|amex|credit|debit",
}
# "pago con tarjeta", "I'll pay by card": a payment named in passing, in any answer.
PAYMENT_CUE = re.compile(r"\b(pago|pagar|pagaria|pagare|pagando|pay|paying|paid|payment)\b")
# "envío express", "standard shipping": a delivery option named in passing.
DELIVERY_CUE = re.compile(
    r"\b(envio|enviar|entrega|shipping|delivery|deliver|express|expres|estandar|standard"
    r"|recoger|recojo|pick ?up|pickup)\b"
)
# Delivery words that cannot be anything else (a city may be called "Normal").
_DELIVERY_ONLY = re.compile(r"\b(express|expres|estandar|standard|envio (normal|regular))\b")
# The fields a correction names, checked in this order ("el color de la talla" is a colour).
CORRECTIONS = (
    (
        "delivery_street",
        r"direcci|domicilio|calle|colonia|postal|\bcp\b|ciudad|address|street|city",
    ),
    ("product_colour", r"\bcolou?r\b"),
    ("product_size", r"talla|size|numero de calzado"),
    ("quantity", r"cantidad|cuant[oa]s|quantity|how many|piezas|unidades"),
    ("customer_name", r"nombre|name"),
    ("contact", r"telefono|celular|whats|correo|mail|phone|contacto"),
    ("delivery_option", r"envio|entrega|express|estandar|shipping|delivery|recoger|pick ?up"),
    ("payment_method", r"pago|pagar|tarjeta|oxxo|spei|paypal|mercado|payment|card"),
    ("product", r"producto|articulo|prenda|modelo|product|item"),
)  # fmt: skip
# Saying something given earlier is wrong ("la talla está mal", "I got the colour wrong").
_WRONG = re.compile(
    r"\b(mal|equivoqu\w*|equivoc\w*|incorrect\w*|wrong|mistake|error|no es (esa|ese|el|la)"
    r"|no era|cambia\w*|cambiar|change|mejor|actually|en vez|instead|corrig\w*|corregir|fix"
    r"|oops|perdon me)\b"
)
# "mi cel es …", "my number is …", "correo: …": the contact is what follows.
_CONTACT_LEAD = re.compile(
    r"^\s*((mi|my)\s+)?(cel(ular)?|telefono|tel|whats(app)?|numero|number|phone|correo|email"
    r"|mail|contacto|contact)\s*(es|is|:)?\s*",
)


def choose(words: dict[Enum, str], text: str) -> str | None:
    """The first option whose words appear in the text."""
    folded = fold(text)
    for option, pattern in words.items():
        if re.search(pattern, folded):
            return str(option.value)
    return None


def names_a_correction(text: str) -> bool:
    """Whether the message names something of the order to fix."""
    folded = fold(text)
    return any(re.search(pattern, folded) for _, pattern in CORRECTIONS)


def corrected_fields(text: str) -> list[str]:
    """The fields a message says are wrong ("la talla está mal" → product_size), in order."""
    folded = fold(text)
    if not _WRONG.search(folded):
        return []
    return [slot for slot, pattern in CORRECTIONS if re.search(pattern, folded)]


def says_wrong(text: str) -> bool:
    """Whether the message says something given earlier is wrong or should change."""
    return bool(_WRONG.search(fold(text)))


def contact_in(text: str) -> str | None:
    """The phone or email a whole answer consists of ("mi cel es 81 8765 4321"), if any."""
    bare = _CONTACT_LEAD.sub("", text.strip().lower()).strip(" .")
    if normalize_email(bare):
        return bare
    if re.fullmatch(r"[\d\s()+.-]{8,}", bare) and normalize_phone(bare):
        return bare
    return None


def answers_elsewhere(text: str) -> dict[str, str]:
    """What a whole answer to a free-text question (name, address) gives to another one.

    Only answers that cannot be a name or an address: a phone or an email alone, or a few
    words that are a payment method or a delivery option ("mercado pago", "express").
    """
    contact = contact_in(text)
    if contact:
        return {"contact": contact}
    folded = fold(text)
    if len(folded.split()) > 5 or re.search(r"\d", folded):
        return {}
    found = {}
    payment = choose(PAYMENT_WORDS, text)
    if payment:
        found["payment_method"] = payment
    if _DELIVERY_ONLY.search(folded):
        delivery = choose(DELIVERY_WORDS, text)
        if delivery:
            found["delivery_option"] = delivery
    return found


_EMAIL_ANYWHERE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A phone in a longer answer: after a word that says so ("mi cel es", "phone"), or ten digits
# (a Mexican number) or an international one ("+52 …") on their own.
_PHONE_LEAD = re.compile(
    r"\b(cel(ular|u)?|tel(efono)?|fono|movil|whats(app)?|phone|mobile|cell|number|numero"
    r"|contacto|contact)\b[^\d+]{0,12}(?P<phone>\+?\d[\d\s().-]{6,18}\d)",
)
_PHONE_ALONE = re.compile(
    r"(?<![\d-])(?P<phone>\+\d[\d\s().-]{8,18}\d|\d{2,3}[\s.-]?\d{3,4}[\s.-]?\d{4})(?![\d-])"
)
# Words left behind when the contact is taken out ("mi correo", "email:", "y mi cel").
_CONTACT_WORDS = re.compile(
    r"[,.;:]?\s*\b(y\s+)?((mi|my)\s+)?(correo|email|e-mail|mail|cel(ular|u)?|tel(efono)?|fono"
    r"|movil|whats(app)?|phone|mobile|cell|number|numero|contacto|contact)(\s+(es|is))?\s*:?\s*$",
    re.I,
)


def contact_anywhere(text: str) -> tuple[str | None, str]:
    """A phone or email inside a longer answer, and the answer without it.

    "Mariana Solís. mi correo mariana@gmail.com" → ("mariana@gmail.com", "Mariana Solís");
    "Calle Amsterdam 210, Condesa, CP 06100. mi fono 55 3344 9988" → the phone and the
    address. Postal codes and street numbers are too short to be phones.
    """
    email = _EMAIL_ANYWHERE.search(text)
    found = email
    value = email.group(0) if email else None
    if found is None:
        lead = _PHONE_LEAD.search(text)
        alone = _PHONE_ALONE.search(text)
        for match in (lead, alone):
            if match and normalize_phone(match.group("phone").strip()):
                found, value = match, match.group("phone").strip()
                break
    if found is None or value is None:
        return None, text
    start = found.start("phone") if found is not email else found.start()
    before = _CONTACT_WORDS.sub("", text[:start]).rstrip(" ,.;:-")
    after = text[found.end() :].strip(" ,.;:-")
    rest = ", ".join(part for part in (before, after) if part)
    return value, rest


_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")


def statements(text: str) -> str:
    """The sentences of a message that are not questions.

    "express pls. how much extra is that?" → "express pls.": the choice is made, and the
    question is answered besides.
    """
    kept = [part for part in _SENTENCE.findall(text) if part.strip() and not is_question(part)]
    return " ".join(part.strip() for part in kept)
