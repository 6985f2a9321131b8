"""Reading buying-flow answers: choices named in passing, corrections, answers meant elsewhere."""

from __future__ import annotations

import pytest

from actions.orders.order_answers import (
    DELIVERY_WORDS,
    PAYMENT_WORDS,
    answers_elsewhere,
    choose,
    contact_anywhere,
    contact_in,
    corrected_fields,
    says_wrong,
    statements,
)


@pytest.mark.parametrize(
    ("text", "payment"),
    [
        ("express, y pago con tarjeta", "card"),
        ("standard shipping, I'll pay at OXXO", "oxxo"),
        ("express + card", "card"),
        ("mercado pago", "mercado_pago"),
        ("por transferencia spei", "spei"),
        ("paypal porfa", "paypal"),
        ("express", None),
    ],
)
def test_payment_words(text: str, payment: str | None) -> None:
    assert choose(PAYMENT_WORDS, text) == payment


@pytest.mark.parametrize(
    ("text", "delivery"),
    [
        ("i'll pick them up at your Monterrey store", "pickup"),
        ("paso a recogerlas a la tienda", "pickup"),
        ("normal y pago con tarjeta", "standard"),
        ("que sea express", "express"),
        ("con tarjeta", None),
    ],
)
def test_delivery_words(text: str, delivery: str | None) -> None:
    assert choose(DELIVERY_WORDS, text) == delivery


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("the size is wrong, sorry", ["product_size"]),
        ("uy, me equivoque de color", ["product_colour"]),
        ("la direccion esta mal", ["delivery_street"]),
        ("mejor cambia el pago", ["payment_method"]),
        ("talla M", []),  # a value, not a correction
        ("de que color es?", []),
    ],
)
def test_corrected_fields(text: str, fields: list[str]) -> None:
    assert corrected_fields(text) == fields


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("no espera, cambia el color a azul marino", True),
        ("actually make it L", True),
        ("Sarah O'Connor", False),
        ("Av. Reforma 222", False),
    ],
)
def test_says_wrong(text: str, wrong: bool) -> None:
    assert says_wrong(text) is wrong


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("8187654321", "8187654321"),
        ("mi cel es 81 8765 4321", "81 8765 4321"),
        ("my number is 55 8765 4321", "55 8765 4321"),
        ("kevin.j@gmail.com", "kevin.j@gmail.com"),
        ("06700", None),  # a postal code
        ("Calle Colima 215", None),
    ],
)
def test_contact_in(text: str, contact: str | None) -> None:
    assert contact_in(text) == contact


@pytest.mark.parametrize(
    ("text", "elsewhere"),
    [
        ("8187654321", {"contact": "8187654321"}),
        ("mercado pago", {"payment_method": "mercado_pago"}),
        ("express", {"delivery_option": "express"}),
        ("express y con tarjeta", {"payment_method": "card", "delivery_option": "express"}),
        # Names and places are never taken elsewhere.
        ("Valentina Garza", {}),
        ("Monterrey", {}),
        ("Normal", {}),  # a town in Illinois, and a word too vague alone
        ("Calle Mercado 12, Centro", {}),
    ],
)
def test_answers_elsewhere(text: str, elsewhere: dict[str, str]) -> None:
    assert answers_elsewhere(text) == elsewhere


@pytest.mark.parametrize(
    ("text", "contact", "rest"),
    [
        ("Mariana Solis. mi correo mariana.solis88@gmail.com", "mariana.solis88@gmail.com",
         "Mariana Solis"),
        ("Calle Amsterdam 210, Condesa, CP 06100. mi fono 55 3344 9988", "55 3344 9988",
         "Calle Amsterdam 210, Condesa, CP 06100"),
        ("Priya Shah, phone 55 4433 2211", "55 4433 2211", "Priya Shah"),
        ("Diego Alvarez, Av. Reforma 222, 06600, diego.af@gmail.com", "diego.af@gmail.com",
         "Diego Alvarez, Av. Reforma 222, 06600"),
        # street numbers and postal codes are no phones
        ("Av. Reforma 222, Juarez, Mexico City, 06600", None,
         "Av. Reforma 222, Juarez, Mexico City, 06600"),
        ("Calle 5 de Mayo 1234, CP 06700", None, "Calle 5 de Mayo 1234, CP 06700"),
    ],
)  # fmt: skip
def test_contact_anywhere(text: str, contact: str | None, rest: str) -> None:
    assert contact_anywhere(text) == (contact, rest)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("express pls. how much extra is that?", "express pls."),
        ("con tarjeta. ¿puedo pagar a meses?", "con tarjeta."),
        ("is pickup free?", ""),
        ("express", "express"),
    ],
)
def test_statements(text: str, kept: str) -> None:
    assert statements(text) == kept
