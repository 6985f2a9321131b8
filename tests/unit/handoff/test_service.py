"""Parking a conversation: the case's window closes when the channel's adapter says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.registry import UnknownChannel
from connectors.windows import DAY
from handoff.case import Reason
from handoff.database import make_engine, migrate
from handoff.hours import load_policy
from handoff.service import Handoff
from handoff.store import CaseStore

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=timezone.utc)


@pytest.fixture
def handoff(tmp_path: Path) -> Iterator[Handoff]:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    engine = make_engine(url)
    hours, sla = load_policy()
    yield Handoff(CaseStore(engine), hours, sla)
    engine.dispose()


def park(handoff: Handoff, channel: str, conversation: str) -> float | None:
    """The new case's window closing time (the customer wrote just now)."""
    parked = handoff.park(
        conversation_id=conversation,
        channel=channel,
        reason=Reason.CUSTOMER_ASKED,
        language="es",
        events=[],
        slots={},
        now=NOW,
    )
    return parked.case.window_closes_at


@pytest.mark.parametrize(
    ("channel", "conversation", "closes_after"),
    [
        ("whatsapp", "whatsapp:+5215512345678", DAY),
        ("twilio", "twilio:whatsapp:+5215512345678", DAY),
        ("twilio", "twilio:sms:+5215512345678", None),
        ("messenger", "messenger:123", 7 * DAY),  # an agent's reply, HUMAN_AGENT-tagged
        ("telegram", "telegram:1", None),
        ("rest", "a-rest-sender", None),
    ],
)
def test_the_case_window_is_the_adapters(
    handoff: Handoff, channel: str, conversation: str, closes_after: float | None
) -> None:
    expected = None if closes_after is None else NOW.timestamp() + closes_after
    assert park(handoff, channel, conversation) == expected


def test_an_unknown_channel_opens_no_case(handoff: Handoff) -> None:
    with pytest.raises(UnknownChannel):
        park(handoff, "fax", "fax:1")
    assert handoff.store.find() == []
