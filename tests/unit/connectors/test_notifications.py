"""Wake-ups across processes: PostgreSQL LISTEN/NOTIFY on the channels' two notify channels."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind, OutboundPart
from connectors.notifications import ChangeListener
from connectors.outbox import Outbox
from connectors.storage import CHANGES_CHANNEL, NEW_MESSAGES_CHANNEL, make_engine
from tests.support.databases import postgres_schema


def said(inbox: Inbox, provider_id: str) -> None:
    message = InboundMessage(
        "telegram", "telegram:1", provider_id, Kind.TEXT, time.time(), text="x"
    )
    assert inbox.accept(message) is not None


def test_listeners_hear_what_another_process_stores_each_on_its_own_channel() -> None:
    """A desk hears every change; a dispatcher hears new customer messages only."""
    with postgres_schema("hilo_listen_test") as url:
        replica, desk, dispatcher = make_engine(url), make_engine(url), make_engine(url)
        changes, new_messages = threading.Event(), threading.Event()
        listeners = [
            ChangeListener(desk, changes.set, CHANGES_CHANNEL),
            ChangeListener(dispatcher, new_messages.set, NEW_MESSAGES_CHANNEL),
        ]
        for listener in listeners:
            listener.start()
        try:
            # Once on connecting: catch up on what came before.
            assert changes.wait(10)
            assert new_messages.wait(10)
            changes.clear()
            new_messages.clear()
            Outbox(replica).begin(
                channel="telegram",
                conversation_id="telegram:1",
                part=OutboundPart(text="hola"),
                source="bot",
            )
            assert changes.wait(10)
            assert not new_messages.wait(1.5)  # a reply is no work for the dispatchers
            changes.clear()
            said(Inbox(replica), "m1")
            assert new_messages.wait(10)
            assert changes.wait(10)
        finally:
            for listener in listeners:
                listener.stop()
            for engine in (replica, desk, dispatcher):
                engine.dispose()


def test_sqlite_has_no_listener(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'channels.db'}")
    assert not ChangeListener.available(engine)
    engine.dispose()
