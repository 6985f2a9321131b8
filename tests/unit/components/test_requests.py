"""Splitting a message into its requests (components/requests.py)."""

from __future__ import annotations

import pytest

from components.requests import split_requests, without_greeting


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("what time do you open and where is my order 10001?",
         ["what time do you open", "where is my order 10001?"]),
        ("a que hora abren y donde esta mi pedido 10001",
         ["a que hora abren", "donde esta mi pedido 10001"]),
        ("pls cancel order 10005, and do you have a store in guadalajara?",
         ["pls cancel order 10005", "do you have a store in guadalajara?"]),
        ("quiero devolver el 10009, no me quedó. cuanto tarda el reembolso?",
         ["quiero devolver el 10009, no me quedó.", "cuanto tarda el reembolso?"]),
        ("necesito la factura del 10002 y tiene garantia las zapatillas?",
         ["necesito la factura del 10002", "tiene garantia las zapatillas?"]),
        ("hola, quiero saber de mi pedido 10001 y tambien si hacen envios a españa",
         ["hola, quiero saber de mi pedido 10001", "si hacen envios a españa"]),
        ("quiero saber donde va el 10001 y tambien cancelar el 10005",
         ["quiero saber donde va el 10001", "cancelar el 10005"]),
    ],
)  # fmt: skip
def test_several_requests_are_split_where_each_starts(text: str, parts: list[str]) -> None:
    assert split_requests(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        "hola! quiero comprar las zapatillas urbanas negras talla 42, nada mas uno",
        "hola buenas, quería saber dónde está mi pedido 10234",
        "Calle Orizaba 101, Roma Norte, CDMX, 06700",
        "quiero una camiseta blanca y una negra",
        "mmm no mejor no, dejalo",
    ],
)
def test_one_request_stays_whole(text: str) -> None:
    assert len(split_requests(text)) == 1


@pytest.mark.parametrize(
    ("part", "rest"),
    [
        ("hola, quiero saber donde va el 10001", "quiero saber donde va el 10001"),
        ("buenas tardes, a que hora abren", "a que hora abren"),
        ("Hi there! where is my order", "where is my order"),
        ("holaa buenas, q tal, cuanto cuesta el envio", "cuanto cuesta el envio"),
        ("hola", "hola"),  # nothing but the greeting: kept as it is
        ("holanda queda lejos?", "holanda queda lejos?"),
    ],
)
def test_a_greeting_opening_a_part_is_left_out_of_its_classification(part: str, rest: str) -> None:
    assert without_greeting(part) == rest
