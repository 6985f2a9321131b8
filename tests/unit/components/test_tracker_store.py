"""The windowed tracker store rebuilds the same dialogue state as Rasa's SQLTrackerStore.

Each scenario is written once through stock `SQLTrackerStore` and read back by both stores;
everything the policies and actions look at must agree. Runs on SQLite, and on PostgreSQL
when HILO_TEST_POSTGRES_URL is set (CI sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from components.tracker_store import PERSISTED_MARK, WindowedSQLTrackerStore

DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "inform"],
        "slots": {
            name: {"type": "text", "influence_conversation": True, "mappings": [{"type": "custom"}]}
            for name in ("colour", "size", "city")
        },
        "forms": {"order_form": {"required_slots": ["colour"]}},
        "responses": {"utter_ok": [{"text": "ok"}]},
    }
)
WINDOW = 20
POSTGRES_URL = os.environ.get("HILO_TEST_POSTGRES_URL")


def _store_kwargs(backend: str, tmp_path: Path) -> dict:
    if backend == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    url = urlparse(POSTGRES_URL or "")
    return {
        "dialect": "postgresql",
        "host": url.hostname,
        "port": url.port,
        "db": url.path.lstrip("/"),
        "username": url.username,
        "password": url.password,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SQLTrackerStore, WindowedSQLTrackerStore]]:
    """(stock store, windowed store) over the same database."""
    if request.param == "postgresql" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must set HILO_TEST_POSTGRES_URL so the PostgreSQL path is tested")
        pytest.skip("HILO_TEST_POSTGRES_URL is not set (CI sets it; see .ci/run)")
    kwargs = _store_kwargs(request.param, tmp_path)
    stock = SQLTrackerStore(domain=DOMAIN, **kwargs)
    windowed = WindowedSQLTrackerStore(domain=DOMAIN, window=WINDOW, **kwargs)
    yield stock, windowed
    stock.engine.dispose()
    windowed.engine.dispose()


def turn(text: str, slot: tuple[str, str] | None = None) -> list[Event]:
    """One user turn: the message, optional slot, a bot reply, back to listening."""
    events: list[Event] = [
        UserUttered(text, intent={"name": "inform", "confidence": 1.0}),
    ]
    if slot:
        events.append(SlotSet(*slot))
    events += [ActionExecuted("utter_ok"), BotUttered("ok"), ActionExecuted("action_listen")]
    return events


def session_start() -> list[Event]:
    """What action_session_start leaves in a new session: the action is logged before the
    `session_started` event it returned, but created (timestamped) after it."""
    started = SessionStarted()
    action = _later(ActionExecuted("action_session_start"), started)
    return [action, started, _later(ActionExecuted("action_listen"), action)]


def _later(event: Event, than: Event) -> Event:
    event.timestamp = than.timestamp + 0.001
    return event


def slots(tracker: DialogueStateTracker) -> dict:
    """The test domain's own slots (not Rasa's built-in ones)."""
    return {
        k: v for k, v in tracker.current_slot_values().items() if k in ("colour", "size", "city")
    }


async def write(store: SQLTrackerStore, sender: str, events: list[Event]) -> None:
    """Stores the conversation through stock Rasa."""
    tracker = DialogueStateTracker.from_events(sender, events, DOMAIN.slots)
    await store.save(tracker)


def assert_same_state(stock: DialogueStateTracker, windowed: DialogueStateTracker) -> None:
    """Everything policies and actions read from a tracker agrees."""
    assert windowed.current_slot_values() == stock.current_slot_values()
    assert windowed.is_paused() == stock.is_paused()
    assert windowed.active_loop_name == stock.active_loop_name
    assert windowed.latest_message == stock.latest_message
    assert windowed.latest_action_name == stock.latest_action_name
    stock_states = stock.past_states(DOMAIN)[-4:]
    windowed_states = windowed.past_states(DOMAIN)[-4:]
    assert windowed_states == stock_states


@pytest.fixture
def sender() -> str:
    return f"t-{uuid.uuid4().hex}"


async def test_short_conversations_are_read_whole(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    events = session_start() + turn("hola") + turn("rojo", ("colour", "rojo"))
    await write(stock_store, sender, events)
    stock = await stock_store.retrieve(sender)
    windowed = await windowed_store.retrieve(sender)
    assert list(windowed.events) == list(stock.events)


async def test_long_conversation_keeps_state_from_before_the_window(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    events = session_start() + turn("rojo", ("colour", "rojo")) + turn("M", ("size", "M"))
    events += [ActiveLoop("order_form"), ConversationPaused()]
    for i in range(40):
        events += turn(f"mensaje {i}", ("size", "L") if i == 5 else None)
    await write(stock_store, sender, events)
    stock = await stock_store.retrieve(sender)
    windowed = await windowed_store.retrieve(sender)
    assert len(windowed.events) < len(stock.events) / 3
    assert windowed.current_slot_values()["size"] == "L"
    assert windowed.active_loop_name == "order_form"
    assert windowed.is_paused()
    assert_same_state(stock, windowed)


async def test_restart_and_slot_reset_before_the_window_are_respected(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    events = session_start() + turn("a", ("colour", "rojo")) + [ConversationPaused()]
    events += [Restarted(), *turn("b", ("size", "M")), AllSlotsReset()]
    events += [*turn("c", ("city", "León")), ConversationResumed()]
    for i in range(30):
        events += turn(f"m{i}")
    await write(stock_store, sender, events)
    stock = await stock_store.retrieve(sender)
    windowed = await windowed_store.retrieve(sender)
    assert slots(windowed) == {"colour": None, "size": None, "city": "León"}
    assert_same_state(stock, windowed)


async def test_only_the_latest_session_is_read(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    events = session_start() + turn("viejo", ("colour", "rojo"))
    for i in range(30):
        events += turn(f"m{i}")
    events += [*session_start(), SlotSet("colour", "rojo"), *turn("nuevo")]
    await write(stock_store, sender, events)
    stock = await stock_store.retrieve(sender)
    windowed = await windowed_store.retrieve(sender)
    assert list(windowed.events) == list(stock.events)
    assert not any(getattr(e, "text", None) == "viejo" for e in windowed.events)


async def test_saving_appends_exactly_the_new_events(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    events = session_start()
    for i in range(30):
        events += turn(f"m{i}", ("colour", str(i)))
    await write(stock_store, sender, events)
    tracker = await windowed_store.retrieve(sender)
    assert getattr(tracker, PERSISTED_MARK) == len(tracker.events)
    for event in turn("otro", ("size", "S")):
        tracker.update(event)
    await windowed_store.save(tracker)
    await windowed_store.save(tracker)  # saving twice adds nothing
    full = await stock_store.retrieve_full_tracker(sender)
    assert [e.as_dict()["event"] for e in full.events] == [
        e.as_dict()["event"] for e in events + turn("otro", ("size", "S"))
    ]
    again = await windowed_store.retrieve(sender)
    assert slots(again) == {"colour": "29", "size": "S", "city": None}


async def test_new_conversations_are_created_and_saved(stores, sender: str) -> None:
    stock_store, windowed_store = stores
    assert await windowed_store.retrieve(sender) is None
    tracker = await windowed_store.get_or_create_tracker(sender)
    for event in session_start() + turn("hola"):
        tracker.update(event)
    await windowed_store.save(tracker)
    full = await stock_store.retrieve_full_tracker(sender)
    assert list(full.events) == list(tracker.events)
    assert list((await windowed_store.retrieve(sender)).events) == list(
        (await stock_store.retrieve(sender)).events
    )


def test_indexes_exist(stores) -> None:
    _, windowed_store = stores
    names = {index["name"] for index in sa.inspect(windowed_store.engine).get_indexes("events")}
    assert {"ix_events_sender_id_id", "ix_events_sender_type_id"} <= names


def test_window_must_hold_several_turns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 20"):
        WindowedSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "x.db"), window=5)


def test_a_database_outage_reaches_the_turn_instead_of_an_empty_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa's fail-safe wrapper answered a failed read with "no tracker" (the turn then ran
    without its context) and kept a failed save in memory; Hilo's raises the outage, so the
    channels core retries the turn once PostgreSQL is back. Other errors keep Rasa's way."""
    import asyncio

    import rasa.core.agent
    from rasa.core.agent import Agent

    from components.tracker_store import OutageAwareTrackerStore, install_outage_aware_wrapper
    from tests.support.databases import database_that_goes_down

    with database_that_goes_down("hilo_tracker_outage") as (url, outage):
        parts = urlparse(url)
        store = WindowedSQLTrackerStore(
            domain=DOMAIN,
            dialect="postgresql",
            host=parts.hostname,
            port=parts.port,
            db=parts.path.lstrip("/"),
            username=parts.username,
        )
        # What connectors/server.py does at start, undone after this test.
        monkeypatch.setattr(
            rasa.core.agent, "FailSafeTrackerStore", rasa.core.agent.FailSafeTrackerStore
        )
        install_outage_aware_wrapper()
        wrapped = Agent._create_tracker_store(store, DOMAIN)
        assert isinstance(wrapped, OutageAwareTrackerStore)
        tracker = DialogueStateTracker.from_events("ana", turn("hola"))
        asyncio.run(wrapped.save(tracker))
        outage.down()
        with pytest.raises(sa.exc.OperationalError):
            asyncio.run(wrapped.retrieve("ana"))
        with pytest.raises(sa.exc.OperationalError):
            asyncio.run(wrapped.save(DialogueStateTracker.from_events("ana", turn("otra"))))
        outage.up()
        back = asyncio.run(wrapped.retrieve("ana"))
        assert back is not None
        assert [e.text for e in back.events if isinstance(e, UserUttered)] == ["hola"]
        store.engine.dispose()
