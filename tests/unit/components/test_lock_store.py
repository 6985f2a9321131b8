"""The replicas' Redis lock store: a lock left by a dead replica frees itself in seconds."""

from __future__ import annotations

import asyncio
import time
import uuid

from rasa.core.lock_store import LockStore

from connectors.rasa_stores import lock_store
from tests.support.services import require_redis


def test_a_lock_left_by_a_dead_holder_expires_after_the_short_lifetime(monkeypatch) -> None:
    monkeypatch.setenv("HILO_REDIS_PREFIX", f"hilotest{uuid.uuid4().hex[:8]}")
    config = lock_store(require_redis())
    config.kwargs["lock_lifetime"] = 1
    store = LockStore.create(config)
    conversation = f"sandbox:{uuid.uuid4().hex[:8]}"
    store.issue_ticket(conversation, store.lifetime)  # taken, never released: the holder died

    async def next_turn() -> float:
        started = time.monotonic()
        async with store.lock(conversation, wait_time_in_seconds=0.1):
            return time.monotonic() - started

    waited = asyncio.run(next_turn())
    assert 0.5 < waited < 5  # Rasa's default would have held it for 60 s
    store.delete_lock(conversation)


def test_a_live_holder_still_keeps_a_waiter_out_until_it_is_done(monkeypatch) -> None:
    monkeypatch.setenv("HILO_REDIS_PREFIX", f"hilotest{uuid.uuid4().hex[:8]}")
    store = LockStore.create(lock_store(require_redis()))
    conversation = f"sandbox:{uuid.uuid4().hex[:8]}"
    order: list[str] = []

    async def holder() -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            order.append("holder in")
            await asyncio.sleep(0.5)
            order.append("holder out")

    async def waiter() -> None:
        await asyncio.sleep(0.1)
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            order.append("waiter in")

    async def both() -> None:
        await asyncio.gather(holder(), waiter())

    asyncio.run(both())
    assert order == ["holder in", "holder out", "waiter in"]
