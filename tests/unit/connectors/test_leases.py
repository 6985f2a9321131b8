"""Conversation leases: PostgreSQL advisory locks between processes, lanes alone on SQLite.

Two engines stand for two replicas (each has its own pool and sessions, as two processes do);
PostgreSQL decides who holds what. The kill -9 of a whole replica is in
tests/integration/connectors/test_replicas.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.dispatcher import Dispatcher
from connectors.inbox import Inbox, InboxItem
from connectors.leases import AdvisoryLeases, LocalLeases, lease_key, leases_for
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine
from tests.support.databases import postgres_schema


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema("hilo_leases_test") as url:
        yield url


@pytest.fixture
def replicas(url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = make_engine(url), make_engine(url)
    yield first, second
    first.dispose()
    second.dispose()


def test_keys_are_stable_signed_64_bit_and_differ_per_conversation() -> None:
    keys = {lease_key(f"whatsapp:+52155{index:08d}") for index in range(10_000)}
    assert len(keys) == 10_000
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert lease_key("telegram:1") == lease_key("telegram:1")


def test_sqlite_uses_the_lanes_and_postgresql_advisory_locks(
    tmp_path: Path, replicas: tuple[Engine, Engine]
) -> None:
    assert isinstance(leases_for(make_engine(f"sqlite:///{tmp_path / 'c.db'}")), LocalLeases)
    assert isinstance(leases_for(replicas[0]), AdvisoryLeases)


def test_one_replica_at_a_time_and_the_lease_is_free_again_after(
    replicas: tuple[Engine, Engine],
) -> None:
    first, second = AdvisoryLeases(replicas[0]), AdvisoryLeases(replicas[1])

    async def scenario() -> list[bool]:
        seen = []
        async with first.hold("telegram:1") as held:
            seen.append(held)
            async with second.hold("telegram:1") as other:
                seen.append(other)
            async with second.hold("telegram:2") as unrelated:
                seen.append(unrelated)
        async with second.hold("telegram:1") as after:
            seen.append(after)
        return seen

    assert asyncio.run(scenario()) == [True, False, True, True]


def test_a_holder_whose_connection_dies_loses_the_lease_at_once(
    url: str, replicas: tuple[Engine, Engine]
) -> None:
    """What kill -9 does to a replica: its sessions end, and PostgreSQL frees their locks."""
    first, second = AdvisoryLeases(replicas[0]), AdvisoryLeases(replicas[1])
    admin = sa.create_engine(url, future=True)

    async def scenario() -> tuple[bool, bool]:
        async with first.hold("telegram:1"):
            with admin.begin() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                    )
                )
            await asyncio.sleep(0.2)
            async with second.hold("telegram:1") as taken_over:
                pass
        async with second.hold("telegram:1") as later:  # the dead holder's release is harmless
            pass
        return taken_over, later

    try:
        assert asyncio.run(scenario()) == (True, True)
    finally:
        admin.dispose()


def test_two_replicas_share_conversations_in_order_and_never_at_once(
    replicas: tuple[Engine, Engine],
) -> None:
    """Messages of three conversations land on either replica in turn (as a load balancer
    sends them); each is processed once, in order, and one replica at a time works on each."""
    seen: list[tuple[str, str, int]] = []
    running: dict[str, int] = {}
    most = {"same": 0}
    lock = threading.Lock()

    def processor(replica: int):
        async def process(item: InboxItem) -> None:
            conversation = item.message.conversation_id
            with lock:
                running[conversation] = running.get(conversation, 0) + 1
                most["same"] = max(most["same"], running[conversation])
            await asyncio.sleep(0.005)
            with lock:
                running[conversation] -= 1
                seen.append((conversation, item.message.provider_id, replica))

        return process

    inboxes = [Inbox(engine) for engine in replicas]
    dispatchers = [
        Dispatcher(inbox, processor(index), leases=AdvisoryLeases(inbox.engine))
        for index, inbox in enumerate(inboxes)
    ]
    for dispatcher in dispatchers:
        dispatcher.start()
    try:
        sent = 0
        for index in range(20):
            for conversation in ("telegram:1", "telegram:2", "telegram:3"):
                replica = sent % 2
                sent += 1
                message = InboundMessage(
                    "telegram", conversation, f"{conversation}-{index}", Kind.TEXT, index, "x"
                )
                inboxes[replica].accept(message)
                dispatchers[replica].wake(conversation)
        deadline = time.monotonic() + 30
        while len(seen) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for dispatcher in dispatchers:
            dispatcher.stop()
    assert len(seen) == 60
    for conversation in ("telegram:1", "telegram:2", "telegram:3"):
        order = [provider_id for conv, provider_id, _ in seen if conv == conversation]
        assert order == [f"{conversation}-{index}" for index in range(20)]
    assert most["same"] == 1
    assert {replica for *_, replica in seen} == {0, 1}  # both replicas did work
    assert inboxes[0].counts() == {"done": 60}


def test_a_replica_takes_over_what_a_dead_one_left_mid_turn(
    url: str, replicas: tuple[Engine, Engine]
) -> None:
    """The first replica dies in the middle of a turn (its database sessions are cut, as at
    kill -9); the second claims the interrupted message again at its next sweep."""
    inboxes = [Inbox(engine) for engine in replicas]
    started = threading.Event()
    done: list[tuple[str, int]] = []

    async def hangs(item: InboxItem) -> None:
        started.set()
        await asyncio.sleep(3600)  # the process "dies" here

    async def answers(item: InboxItem) -> None:
        done.append((item.message.provider_id, item.attempts))

    dead = Dispatcher(inboxes[0], hangs, leases=AdvisoryLeases(replicas[0]))
    alive = Dispatcher(inboxes[1], answers, leases=AdvisoryLeases(replicas[1]), sweep_seconds=0.2)
    dead.start()
    admin = sa.create_engine(url, future=True)
    try:
        inboxes[0].accept(InboundMessage("telegram", "telegram:9", "m1", Kind.TEXT, 1.0, "x"))
        inboxes[0].accept(InboundMessage("telegram", "telegram:9", "m2", Kind.TEXT, 2.0, "x"))
        dead.wake("telegram:9")
        assert started.wait(10)
        # Started only now: listening, it would otherwise hear of m1 and might take it first.
        alive.start()
        time.sleep(0.5)
        assert done == []  # the lease keeps the live replica out while the turn runs
        with admin.begin() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                )
            )
        deadline = time.monotonic() + 10
        while len(done) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert done == [("m1", 2), ("m2", 1)]
    finally:
        alive.stop()
        dead.stop(timeout=0.5)
        admin.dispose()
