"""Log records lose phone numbers, emails and Rasa's debug content where they are made."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hilo import log_privacy
from hilo.log_privacy import content_free, redact


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The policy in force for the test only, and a handler that writes what it prints."""
    monkeypatch.setattr(logging.Logger, "makeRecord", logging.Logger.makeRecord)
    log_privacy.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(request)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.parametrize(
    "text",
    [
        "whatsapp:+5215512345678",
        "POST /conversations/whatsapp%3A%2B5215512345678/tracker/events",
        "whatsapp%3A5215512345678",
        "call 55 1234 5678 or (55) 1234-5678",
        "+52 1 55 1234 5678",
        "telegram:987654321",
        "Ana.Lopez@Gmail.com",
        "mail=ana.lopez%40gmail.com",
    ],
)
def test_phones_and_emails_are_replaced(text: str) -> None:
    cleaned = redact(text)
    assert not any(run in cleaned for run in ("5512345678", "1234", "987654321", "lopez"))
    assert log_privacy.PHONE_MARK in cleaned or log_privacy.EMAIL_MARK in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-07 10:00:01",
        "order 10001 at 127.0.0.1:5005",
        "id 550e8400-e29b-41d4-a716-446655440000",
        "pseudonym 3fa9c02b1d4e5f60",
        "took 1234.5 ms",
    ],
)
def test_dates_ids_and_short_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


def test_a_rasa_debug_line_keeps_what_happened_not_what_was_said() -> None:
    line = "Received user message 'soy Ana, cancela el 10001' with intent '{'name': 'x'}'"
    assert content_free(line) == "Received user message"
    event = json.dumps(
        {"event": "processor.message.parse", "parse_data_text": "soy Ana", "log_level": "debug"}
    )
    assert content_free(event) == "processor.message.parse [parse_data_text]"


def test_records_are_cleaned_for_every_handler(installed: io.StringIO) -> None:
    logging.getLogger("sanic.error").error(
        "Exception occurred while handling uri: %r",
        "http://x/conversations/whatsapp:+5215512345678/tracker",
        extra={"request": "GET /media?mail=ana@example.com"},
    )
    logging.getLogger("rasa.core.processor").debug(
        "Received user message 'mi correo es ana@example.com, soy Ana' with intent 'x'",
        extra={"request": ""},
    )
    logging.getLogger("rasa.core.processor").info("Predicted 'x'", extra={"request": ""})
    printed = installed.getvalue()
    assert "5512345678" not in printed
    assert "ana@example.com" not in printed
    assert "soy Ana" not in printed
    assert "DEBUG rasa.core.processor Received user message" in printed
    assert "INFO rasa.core.processor Predicted 'x'" in printed  # INFO keeps its words
    assert "<phone>" in printed
    assert "GET /media?mail=<email>" in printed


def test_a_traceback_is_redacted_too(installed: io.StringIO) -> None:
    try:
        raise ValueError("no order for ana@example.com at +5215512345678")
    except ValueError:
        logging.getLogger("actions").exception("lookup failed", extra={"request": ""})
    printed = installed.getvalue()
    assert "ValueError: no order for <email> at <phone>" in printed
    assert "ana@example.com" not in printed


def test_a_wrong_format_string_neither_crashes_nor_prints_its_arguments(
    installed: io.StringIO,
) -> None:
    logging.getLogger("x").warning("one %s %s", "ana@example.com", extra={"request": ""})
    assert "ana@example.com" not in installed.getvalue()
    assert "one %s %s" in installed.getvalue()


def test_install_is_idempotent(installed: io.StringIO) -> None:
    log_privacy.install()
    assert log_privacy.installed()
