"""The channels' query API: what the desk reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from connectors.history import History
from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind, OutboundPart
from connectors.outbox import Outbox
from connectors.storage import make_engine
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "history") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def said(inbox: Inbox, conversation: str, provider_id: str, text: str) -> int:
    item = inbox.accept(
        InboundMessage("telegram", conversation, provider_id, Kind.TEXT, time.time(), text=text)
    )
    assert item is not None
    return item.id


def test_messages_both_ways_search_and_the_live_cursor(engine: Engine) -> None:
    inbox, outbox, history = Inbox(engine), Outbox(engine), History(engine)
    start_in, start_out = history.latest_cursor()
    first = said(inbox, "telegram:1", "m1", "mi pedido 100% llego roto_")
    said(inbox, "telegram:2", "m2", "hola")
    record = outbox.begin(
        channel="telegram",
        conversation_id="telegram:1",
        part=OutboundPart(text="lo siento"),
        source="bot",
        reply_to=first,
        seq=1,
    )
    assert record is not None
    outbox.sent(record.id, "tg-1")
    received, sent = history.messages("telegram:1")
    assert [r.body["text"] for r in received] == ["mi pedido 100% llego roto_"]
    assert [s.body["text"] for s in sent] == ["lo siento"]
    assert sent[0].source == "bot"
    assert history.search("100%") == ["telegram:1"]  # LIKE wildcards are the customer's text
    assert history.search("roto_") == ["telegram:1"]
    assert history.search("0%l") == []
    new_in, new_out = history.changes(start_in, start_out)
    assert [change.conversation_id for change in new_in] == ["telegram:1", "telegram:2"]
    assert [change.direction for change in new_out] == ["out"]
    assert history.changes(*history.latest_cursor()) == ([], [])
