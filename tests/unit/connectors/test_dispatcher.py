"""The dispatcher: every pending message processed once, in order per conversation, off-loop."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from connectors.dispatcher import Dispatcher, Failed, Retry
from connectors.inbox import Inbox, InboxItem
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine


def message(conversation: str, provider_id: str, sent_at: float) -> InboundMessage:
    return InboundMessage("telegram", conversation, provider_id, Kind.TEXT, sent_at, text="x")


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    return Inbox(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))


def wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_each_conversation_is_processed_in_order_while_conversations_overlap(
    inbox: Inbox,
) -> None:
    seen: list[tuple[str, str]] = []
    running: dict[str, int] = {}
    overlap = {"max_same": 0, "max_total": 0}
    lock = threading.Lock()

    async def process(item: InboxItem) -> None:
        conversation = item.message.conversation_id
        with lock:
            running[conversation] = running.get(conversation, 0) + 1
            overlap["max_same"] = max(overlap["max_same"], running[conversation])
            overlap["max_total"] = max(overlap["max_total"], sum(running.values()))
        await asyncio.sleep(0.01)
        with lock:
            running[conversation] -= 1
            seen.append((conversation, item.message.provider_id))

    dispatcher = Dispatcher(inbox, process, concurrency=4)
    dispatcher.start()
    try:
        for index in range(10):
            for conversation in ("telegram:1", "telegram:2", "telegram:3"):
                inbox.accept(message(conversation, f"{conversation}-{index}", float(index)))
                dispatcher.wake(conversation)
        wait(lambda: len(seen) == 30)
        wait(dispatcher.idle)
    finally:
        dispatcher.stop()
    for conversation in ("telegram:1", "telegram:2", "telegram:3"):
        order = [pid for conv, pid in seen if conv == conversation]
        assert order == [f"{conversation}-{i}" for i in range(10)]
    assert overlap["max_same"] == 1
    assert overlap["max_total"] > 1  # different customers do not wait for each other
    assert inbox.counts() == {"done": 30}


def test_the_webhook_thread_is_never_the_one_processing(inbox: Inbox) -> None:
    threads: list[str] = []

    async def process(item: InboxItem) -> None:
        threads.append(threading.current_thread().name)

    dispatcher = Dispatcher(inbox, process)
    dispatcher.start()
    try:
        inbox.accept(message("telegram:1", "a", 1.0))
        dispatcher.wake("telegram:1")
        wait(lambda: threads == ["hilo-bot"])
    finally:
        dispatcher.stop()


def test_pending_messages_from_before_a_restart_are_processed_at_start(inbox: Inbox) -> None:
    inbox.accept(message("telegram:1", "a", 1.0))
    inbox.accept(message("telegram:1", "b", 2.0))
    interrupted = inbox.claim_next("telegram:1")  # the process died while handling "a"
    assert interrupted is not None
    seen: list[str] = []

    async def process(item: InboxItem) -> None:
        seen.append(item.message.provider_id)

    dispatcher = Dispatcher(inbox, process)
    dispatcher.start()
    try:
        wait(lambda: seen == ["a", "b"])
    finally:
        dispatcher.stop()


def test_retry_keeps_the_order_and_failed_is_recorded(inbox: Inbox) -> None:
    attempts: list[str] = []

    async def process(item: InboxItem) -> None:
        attempts.append(item.message.provider_id)
        if item.message.provider_id == "a" and item.attempts < 3:
            raise Retry("not ready")
        if item.message.provider_id == "c":
            raise Failed("bot: RuntimeError")

    dispatcher = Dispatcher(inbox, process, retry_delay=0.02)
    dispatcher.start()
    try:
        for pid, at in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
            inbox.accept(message("telegram:1", pid, at))
        dispatcher.wake("telegram:1")
        wait(lambda: inbox.counts() == {"done": 2, "failed": 1})
    finally:
        dispatcher.stop()
    assert attempts == ["a", "a", "a", "b", "c"]


def test_a_wake_racing_the_end_of_a_lane_is_not_lost(inbox: Inbox) -> None:
    seen: list[str] = []

    async def process(item: InboxItem) -> None:
        seen.append(item.message.provider_id)

    dispatcher = Dispatcher(inbox, process, concurrency=1)
    dispatcher.start()
    try:
        for index in range(200):
            inbox.accept(message("telegram:1", f"m{index}", float(index)))
            dispatcher.wake("telegram:1")
            if index % 7 == 0:
                time.sleep(0.001)
        wait(lambda: len(seen) == 200)
    finally:
        dispatcher.stop()
    assert seen == [f"m{i}" for i in range(200)]


def test_stop_lets_running_turns_finish_and_leaves_the_rest_pending(inbox: Inbox) -> None:
    started = threading.Event()

    async def process(item: InboxItem) -> None:
        started.set()
        await asyncio.sleep(0.2)

    dispatcher = Dispatcher(inbox, process)
    dispatcher.start()
    inbox.accept(message("telegram:1", "a", 1.0))
    inbox.accept(message("telegram:1", "b", 2.0))
    dispatcher.wake("telegram:1")
    assert started.wait(5)
    dispatcher.stop()
    assert inbox.counts() == {"done": 1, "pending": 1}


def test_a_turn_that_meets_a_service_outage_waits_for_it_and_is_never_failed(
    inbox: Inbox,
) -> None:
    """PostgreSQL or Redis down in the middle of a turn: the message goes back to pending and
    is processed once the service answers, however many tries that takes."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    outage = {"left": 4}
    done: list[int] = []

    async def process(item: InboxItem) -> None:
        if outage["left"]:
            outage["left"] -= 1
            raise RedisConnectionError("Connection refused")
        done.append(item.attempts)

    dispatcher = Dispatcher(inbox, process, retry_delay=0.05)
    dispatcher.start()
    try:
        inbox.accept(message("telegram:1", "m1", 1.0))
        dispatcher.wake("telegram:1")
        wait(lambda: done == [5])
    finally:
        dispatcher.stop()
    assert inbox.counts() == {"done": 1}


def test_a_message_another_process_stored_starts_its_turn_without_waiting_for_the_sweep() -> None:
    """PostgreSQL: a webhook intake (or another replica) stores; this replica hears of it."""
    from connectors.leases import leases_for
    from tests.support.databases import postgres_schema

    with postgres_schema("hilo_follow_test") as url:
        replica, intake = make_engine(url), make_engine(url)
        processed = threading.Event()

        async def process(item: InboxItem) -> None:
            processed.set()

        # A sweep an hour away: only the notification can start the turn in time.
        dispatcher = Dispatcher(
            Inbox(replica), process, leases=leases_for(replica), sweep_seconds=3600
        )
        dispatcher.start()
        try:
            time.sleep(1.0)  # the listener connects (and looks once: nothing yet)
            Inbox(intake).accept(message("telegram:1", "m1", time.time()))
            assert processed.wait(10)
            wait(dispatcher.idle)
            assert Inbox(replica).counts() == {"done": 1}
        finally:
            dispatcher.stop()
            replica.dispose()
            intake.dispose()
