"""`make channels-status` shows failures with the provider's error, never a phone number."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind, OutboundPart
from connectors.outbox import Outbox
from connectors.status import main
from connectors.storage import make_engine


def test_failures_are_listed_with_their_code_and_a_pseudonym(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'channels.db'}"
    monkeypatch.setenv("CHANNELS_DATABASE_URL", url)
    engine = make_engine(url)
    conversation = "whatsapp:+5215512345678"
    Inbox(engine).accept(
        InboundMessage("whatsapp", conversation, "wamid.1", Kind.TEXT, time.time(), text="hola")
    )
    outbox = Outbox(engine)
    record = outbox.begin(
        channel="whatsapp",
        conversation_id=conversation,
        part=OutboundPart(text="x"),
        source="agent",
    )
    assert record is not None
    outbox.failed(record.id, "131047", "Re-engagement message")
    assert main([]) == 0
    text = capsys.readouterr().out
    assert "131047: Re-engagement message" in text
    assert "inbox: pending 1" in text
    assert "5512345678" not in text
    assert main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["failed_sends"][0]["error_code"] == "131047"
    assert data["outbound"] == {"failed": 1}
