"""Splitting long texts, Rasa responses into parts, numbered buttons and replies to them."""

from __future__ import annotations

import pytest

from connectors.messages import MEDIA_PAYLOAD, Button, InboundMessage, Kind, Location, OutboundPart
from connectors.render import (
    match_button,
    numbered,
    parts_from_response,
    split_part,
    split_text,
)

BUTTONS = (
    Button("Sí, confirmar", "/affirm"),
    Button("No", "/deny"),
    Button("Hablar con alguien", "/human_handoff"),
)


def test_short_text_is_one_piece() -> None:
    assert split_text("hola", 10) == ["hola"]


def test_long_text_is_cut_at_paragraphs_then_sentences_then_words() -> None:
    text = "Primera parte del mensaje.\n\nSegunda parte, algo más larga que la primera."
    assert split_text(text, 40) == [
        "Primera parte del mensaje.",
        "Segunda parte, algo más larga que la",
        "primera.",
    ]
    sentences = "Uno dos tres. Cuatro cinco seis. Siete ocho nueve."
    assert split_text(sentences, 20) == ["Uno dos tres.", "Cuatro cinco seis.", "Siete ocho nueve."]


@pytest.mark.parametrize("limit", [7, 50, 160, 1600])
def test_pieces_respect_the_limit_and_keep_every_word(limit: int) -> None:
    text = " ".join(f"palabra{i}" for i in range(400))
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_buttons_stay_on_the_last_piece() -> None:
    pieces = split_part(OutboundPart(text="a " * 30, buttons=BUTTONS), 20)
    assert all(not piece.buttons for piece in pieces[:-1])
    assert pieces[-1].buttons == BUTTONS


def test_a_rasa_response_becomes_text_buttons_and_files() -> None:
    parts = parts_from_response(
        {
            "text": "Tu factura",
            "buttons": [{"title": "Sí", "payload": "/affirm"}],
            "custom": {"document": {"url": "https://h/f.pdf", "filename": "Lumen-10001.pdf"}},
            "image": "https://h/i.png",
            "recipient_id": "x",
        }
    )
    assert parts == [
        OutboundPart(text="Tu factura", buttons=(Button("Sí", "/affirm"),)),
        OutboundPart(document_url="https://h/f.pdf", filename="Lumen-10001.pdf"),
        OutboundPart(image_url="https://h/i.png"),
    ]


def test_unknown_custom_payloads_are_not_shown_to_customers() -> None:
    assert parts_from_response({"custom": {"debug": {"slots": 1}}}) == []


def test_numbered_lists_and_replies_to_them() -> None:
    assert numbered("¿Confirmas?", BUTTONS[:2]) == "¿Confirmas?\n\n1. Sí, confirmar\n2. No"
    assert match_button("2", BUTTONS, numbered_list=True) == BUTTONS[1]
    assert match_button(" 3. ", BUTTONS, numbered_list=True) == BUTTONS[2]
    assert match_button("4", BUTTONS, numbered_list=True) is None
    assert match_button("2", BUTTONS, numbered_list=False) is None  # native buttons: "2" is text
    assert match_button("si confirmar", BUTTONS, numbered_list=False) == BUTTONS[0]
    assert match_button("NO!", BUTTONS, numbered_list=False) == BUTTONS[1]
    assert match_button("no se", BUTTONS, numbered_list=True) is None


def base(**kw) -> InboundMessage:
    return InboundMessage("telegram", "telegram:1", "1", kw.pop("kind", Kind.TEXT), 0.0, **kw)


def test_the_bot_never_gets_empty_text() -> None:
    assert base(text="hola").nlu_text() == "hola"
    assert base(kind=Kind.BUTTON, text="Sí", payload="/affirm").nlu_text() == "/affirm"
    assert base(kind=Kind.MEDIA, text="  ").nlu_text() == MEDIA_PAYLOAD


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ('/cancel_order{"order_id": "10001"}', 'cancel_order{"order_id": "10001"}'),
        ("  /affirm", "affirm"),
        ("//", "?"),
        ("a/b", "a/b"),
    ],
)
def test_typed_words_never_reach_rasa_as_an_intent_command(typed: str, parsed: str) -> None:
    assert base(text=typed).nlu_text() == parsed
    assert base(kind=Kind.LOCATION, location=Location(1.0, 2.0)).nlu_text() == MEDIA_PAYLOAD
    located = base(kind=Kind.LOCATION, location=Location(1.0, 2.0, address="Av. Juárez 10, CDMX"))
    assert located.nlu_text() == "Av. Juárez 10, CDMX"


def test_text_with_buttons_may_have_a_shorter_limit() -> None:
    text = "Frase número uno. " * 10  # 180 characters
    pieces = split_part(OutboundPart(text=text, buttons=BUTTONS), 500, buttons_limit=50)
    assert all(len(piece.text) <= 50 for piece in pieces[-1:])
    assert all(not piece.buttons for piece in pieces[:-1])
    assert pieces[-1].buttons == BUTTONS
    assert " ".join(p.text for p in pieces).split() == text.split()
    plain = split_part(OutboundPart(text=text), 500, buttons_limit=50)
    assert plain == [OutboundPart(text=text)]
