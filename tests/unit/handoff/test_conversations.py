"""The desk's view of a conversation's window: its channel's adapter's rules, asked by name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.customers import Customers
from connectors.messages import InboundMessage, Kind
from connectors.registry import UnknownChannel
from connectors.storage import make_engine
from connectors.windows import DAY, HOUR
from handoff.conversations import ConversationReader

NOW = time.time()


@pytest.fixture
def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversationReader]:
    """A channels database of its own, and no template in the desk's environment."""
    monkeypatch.delenv("WHATSAPP_TEMPLATE_NAME", raising=False)
    monkeypatch.delenv("TWILIO_TEMPLATE_CONTENT_SID", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'channels.db'}")
    yield ConversationReader(engine)
    engine.dispose()


def wrote(reader: ConversationReader, channel: str, conversation: str, at: float) -> None:
    """The customer's last message on `conversation` was at `at`."""
    message = InboundMessage(channel, conversation, f"m-{at}", Kind.TEXT, at, text="hola")
    Customers(reader.engine).record_inbound(message)


def test_an_open_whatsapp_window_says_until_when(reader: ConversationReader) -> None:
    wrote(reader, "whatsapp", "whatsapp:+5215512345678", NOW - 2 * HOUR)
    window = reader.window("whatsapp", "whatsapp:+5215512345678", NOW)
    assert window == {
        "kind": "whatsapp",
        "open": True,
        "closes_at": NOW - 2 * HOUR + DAY,
        "template": False,
    }


def test_a_closed_whatsapp_window_offers_the_template_the_desk_can_read(
    reader: ConversationReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrote(reader, "whatsapp", "whatsapp:+5215512345678", NOW - 25 * HOUR)
    closed = reader.window("whatsapp", "whatsapp:+5215512345678", NOW)
    assert (closed["open"], closed["template"]) == (False, False)
    monkeypatch.setenv("WHATSAPP_TEMPLATE_NAME", "hilo_reengagement")
    assert reader.window("whatsapp", "whatsapp:+5215512345678", NOW)["template"] is True


def test_twilio_sms_has_no_window_and_no_template(
    reader: ConversationReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Content API template is WhatsApp's: the desk used to offer it for SMS too."""
    monkeypatch.setenv("TWILIO_TEMPLATE_CONTENT_SID", "HX0123456789abcdef0123456789abcdef")
    wrote(reader, "twilio", "twilio:sms:+5215512345678", NOW - 30 * DAY)
    wrote(reader, "twilio", "twilio:whatsapp:+5215512345678", NOW - 30 * HOUR)
    sms = reader.window("twilio", "twilio:sms:+5215512345678", NOW)
    assert sms == {"kind": "none", "open": True, "closes_at": None, "template": False}
    whatsapp = reader.window("twilio", "twilio:whatsapp:+5215512345678", NOW)
    assert (whatsapp["kind"], whatsapp["open"], whatsapp["template"]) == ("whatsapp", False, True)


def test_messenger_stays_open_to_agents_for_7_days(reader: ConversationReader) -> None:
    wrote(reader, "messenger", "messenger:123", NOW - 3 * DAY)
    window = reader.window("messenger", "messenger:123", NOW)
    assert window["kind"] == "messenger"
    assert window["open"] is True
    assert window["closes_at"] == NOW - 3 * DAY + 7 * DAY


def test_telegram_is_always_open_even_before_the_customer_wrote(
    reader: ConversationReader,
) -> None:
    window = reader.window("telegram", "telegram:1", NOW)
    assert window == {"kind": "none", "open": True, "closes_at": None, "template": False}


def test_a_channel_hilo_does_not_have_is_refused(reader: ConversationReader) -> None:
    with pytest.raises(UnknownChannel, match="'fax'"):
        reader.window("fax", "fax:1", NOW)
