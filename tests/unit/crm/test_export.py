from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine as channels_engine
from crm.export import parse_since, write_jsonl
from handoff.models import cases
from handoff.store import CaseStore
from tests.unit.handoff.conftest import new


def test_since_takes_dates_and_times_in_utc_unless_told() -> None:
    assert parse_since("2026-12-01") == 1796083200.0
    assert parse_since("2026-12-01T06:00:00-06:00") == 1796083200.0 + 12 * 3600
    assert parse_since("2026-12-01T12:00:00Z") == 1796083200.0 + 12 * 3600
    with pytest.raises(ValueError, match="ISO date"):
        parse_since("last week")


def test_messages_cases_and_csat_are_exported_as_json_lines(engine: Engine, tmp_path: Path) -> None:
    channels = channels_engine(f"sqlite:///{tmp_path / 'channels.db'}")
    Inbox(channels).accept(
        InboundMessage("telegram", "telegram:1", "p1", Kind.TEXT, time.time(), text="hola")
    )
    store = CaseStore(engine)
    case, _ = store.open_case(new("telegram:1", collected={"order_id": "10001"}))
    with engine.begin() as connection:
        connection.execute(
            cases.update().values(csat_score=5, csat_comment="¡bien!", csat_at=time.time())
        )
    out = io.StringIO()
    counts = write_jsonl(engine, channels, time.time() - 60, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert counts == {"message": 1, "case": 1, "csat": 1}
    message, exported, csat = lines
    assert (message["type"], message["text"], message["from"]) == ("message", "hola", "customer")
    assert exported["id"] == case.id
    assert exported["collected"] == {"order_id": "10001"}
    assert (csat["score"], csat["comment"]) == (5, "¡bien!")
    later = io.StringIO()
    assert write_jsonl(engine, channels, time.time() + 60, later) == {
        "message": 0,
        "case": 0,
        "csat": 0,
    }
    channels.dispose()
