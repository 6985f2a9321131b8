"""Truncation and the no-content guard."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.input_guard import NoContentGuard, has_words, symbols_of, truncate_text


def test_truncate_keeps_short_text() -> None:
    assert truncate_text("hola", 600) == "hola"


def test_truncate_cuts_at_a_word_boundary() -> None:
    text = "palabra " * 200
    cut = truncate_text(text, 600)
    assert len(cut) <= 600
    assert cut.endswith("palabra")


def test_truncate_cuts_a_single_huge_word_hard() -> None:
    assert truncate_text("a" * 10_000, 600) == "a" * 600


def test_symbols_and_words() -> None:
    assert symbols_of("ok 👍!") == {"👍", "!"}
    assert has_words("Ñ")
    assert has_words("10234")
    assert not has_words("👍🙏 ?!")


def _guard(known: str) -> NoContentGuard:
    return NoContentGuard(model_storage=None, resource=None, known_symbols=set(known))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "\n", "🦄🦄", "???", None])
def test_unreadable_messages_become_fallback(text: str | None) -> None:
    message = Message(data={"text": text, "intent": {"name": "affirm", "confidence": 0.94}})
    _guard("👍").process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}


@pytest.mark.parametrize("text", ["👍", "hola", "10234", "ok 🦄"])
def test_readable_messages_keep_their_intent(text: str) -> None:
    intent = {"name": "affirm", "confidence": 0.94}
    message = Message(data={"text": text, "intent": intent})
    _guard("👍").process([message])
    assert message.get("intent") == intent


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("hola quiero tenis", True),  # one known word is enough
        ("xqzv blorf", False),  # nothing the models know: a fallback, not a confident guess
        ("10234", True),  # numbers and emails are data the forms read
        ("ana@example.com", True),
    ],
)
def test_messages_of_unknown_words_only_fall_back(text: str, readable: bool) -> None:
    guard = NoContentGuard(
        model_storage=None,  # type: ignore[arg-type]
        resource=None,  # type: ignore[arg-type]
        known_symbols=set(),
        known_words={"hola", "quiero", "tenis"},
    )
    assert guard.is_readable(text) is readable
