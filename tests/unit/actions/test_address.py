"""Reading addresses: a whole address in one line, one given in the request, partial fixes."""

from __future__ import annotations

import pytest

from actions.orders.address import (
    ADDRESS_SLOTS,
    address_in_request,
    address_parts_named,
    city_in,
    corrected_street,
)


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("Calle Orizaba 101, Roma Norte, CDMX, 06700", "CDMX"),
        ("Av Chapultepec 480, col Americana, Guadalajara, Jal. CP 44160", "Jal"),
        ("Calle Durango 210, Roma Norte", None),  # a neighbourhood, not a city
    ],
)
def test_city_in(text: str, city: str | None) -> None:
    assert city_in(text) == city


@pytest.mark.parametrize(
    ("request_text", "address"),
    [
        (
            "Hi, please change the delivery address for order 10005 to Av. Juarez 88, Centro,"
            " Mexico City, 06010",
            "Av. Juarez 88, Centro, Mexico City, 06010",
        ),
        ("change address of 10003 to 4 Main Street", "4 Main Street"),
        ("me mude, la nueva es Calle Hidalgo 12, col Centro", "Calle Hidalgo 12, col Centro"),
        ("cambia la direccion del pedido 10006 a Guadalajara", None),  # no street line
        ("a 10006 le cambias la direccion porfa", None),  # the order number is no street
        ("quiero cambiar la direccion de mi pedido 10003", None),
        # politeness after the address is not part of it
        (
            "cambien la direccion del 10006 a Calle Hidalgo 12, Centro, 44100 xfa",
            "Calle Hidalgo 12, Centro, 44100",
        ),
    ],
)
def test_address_in_request(request_text: str, address: str | None) -> None:
    assert address_in_request(request_text) == address


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("uy no, la calle esta mal", ("delivery_street",)),
        ("no, the street number is wrong", ("delivery_street",)),
        ("el cp esta mal", ("delivery_postal_code",)),
        ("wrong city", ("delivery_city",)),
        ("la ciudad y el cp estan mal", ("delivery_city", "delivery_postal_code")),
        ("la direccion esta mal", ADDRESS_SLOTS),
    ],
)
def test_address_parts_named(text: str, parts: tuple[str, ...]) -> None:
    assert address_parts_named(text) == parts


@pytest.mark.parametrize(
    ("text", "current", "street"),
    [
        (
            "no espera, me equivoque en el numero, es Av. Vallarta 1200, lo demas igual",
            "Av. Vallarta 1020, col Americana, Guadalajara",
            "Av. Vallarta 1200, col Americana, Guadalajara",
        ),
        ("Av. Vallarta 1200", "Av. Vallarta 1020", "Av. Vallarta 1200"),
        ("ay no perdon, es Hidalgo 21 no 12", "Calle Hidalgo 12, Centro", "Hidalgo 21, Centro"),
        ("si, esta bien", "Av. Vallarta 1020", None),
        ("no, mejor no", "Av. Vallarta 1020", None),
    ],
)
def test_corrected_street(text: str, current: str, street: str | None) -> None:
    assert corrected_street(text, current) == street
