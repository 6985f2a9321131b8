"""Language detection on messages written the way customers write them."""

from __future__ import annotations

import pytest

from components.language import LanguageDetector, detect_language


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "buenas tardes",
        "donde esta mi pedido",
        "q onda, ya salio mi paquete?",
        "xq no me llega el pedido 10234",
        "porfa me ayudan con una devolución",
        "¿Cuánto cuesta el envío?",
        "che, querés que te pase el numero de orden?",
        "vale, gracias",
        "me regala la factura porfis",
        "necesito cambiar la talla",
        "NO ME HA LLEGADO NADA!!!",
        "mi correo es ana@example.com",
        "Gracias!!",
        "tenis blancos talla 40 hay?",
    ],
)
def test_spanish_messages_are_spanish(text: str) -> None:
    assert detect_language(text) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "hello there",
        "where is my order",
        "wheres my package??",
        "i want to return these shoes",
        "can u help me pls",
        "thx a lot",
        "How much is shipping to Texas?",
        "my email is john@example.com",
        "I was charged twice for order 10002",
        "do you have the urban sneakers in size 42",
        "talk to a human",
    ],
)
def test_english_messages_are_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "ok",
        "10234",
        "👍",
        "no",
        "si?",
        "jajaja",
        "asdf",
        "ana@example.com",
        "+52 55 1234",
    ],
)
def test_messages_without_evidence_keep_the_language(text: str | None) -> None:
    assert detect_language(text) is None


def test_mixed_message_follows_the_majority() -> None:
    assert detect_language("hola, where is my order please") == "en"
    assert detect_language("hi, quiero saber donde esta mi pedido") == "es"


def test_component_adds_language_to_the_parse_result() -> None:
    from rasa.shared.nlu.training_data.message import Message

    messages = [Message(data={"text": "where is my order"}), Message(data={"text": "ok"})]
    LanguageDetector().process(messages)
    assert messages[0].as_dict(only_output_properties=True)["language"] == "en"
    assert messages[1].as_dict(only_output_properties=True).get("language") is None


@pytest.mark.parametrize(("text", "language"), [("hiii", "en"), ("holaaa", "es"), ("thxxx", "en")])
def test_stretched_words_still_count(text: str, language: str) -> None:
    assert detect_language(text) == language
