"""Rasa's Redis lock store with locks that outlive a dead replica by seconds, not a minute.

Rasa takes a conversation's lock around every turn and every write through its HTTP API. In a
cluster (connectors/rasa_stores.py) the lock lives in Redis, and a replica killed with -9 in
the middle of a turn leaves it there until it expires: 60 s by Rasa's default
(`TICKET_LOCK_LIFETIME`, read once when Rasa is imported, which is too early for Hilo's server
to set it). The replica that takes the conversation over would wait all that time. Hilo's
turns are kept one at a time by the channels' leases (connectors/leases.py), not by this
lock, so it can be short: `lock_lifetime` in the endpoint (5 s by default).

A short lifetime exposes a hang in Rasa's waiting loop (found by this module's test): a
waiter is served only when the first ticket in the queue is its own, so when the dead
holder's ticket and the waiter's expire together (both issued in the same second) the queue
empties, no ticket is ever "first", and the waiter loops forever. With Rasa's 60 s this
happens just as surely, a minute later. Here a waiter is served as soon as no live ticket is
ahead of it, its own expired or not.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_LIFETIME_SECONDS = 5.0


class ReplicaLockStore(RedisLockStore):
    """`RedisLockStore` whose tickets live `lock_lifetime` seconds unless a caller says."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Reads Rasa's Redis lock-store settings from the endpoint, plus `lock_lifetime`."""
        settings: dict[str, Any] = dict(endpoint_config.kwargs)
        self.lifetime = float(settings.pop("lock_lifetime", DEFAULT_LIFETIME_SECONDS))
        super().__init__(host=endpoint_config.url or "localhost", **settings)

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float = 1,
    ) -> contextlib.AbstractAsyncContextManager[TicketLock]:
        """Rasa's lock, with this store's lifetime by default."""
        return super().lock(conversation_id, lock_lifetime or self.lifetime, wait_time_in_seconds)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Waits until no unexpired ticket issued before `ticket` is left (see the docstring)."""
        while True:
            lock = self.get_or_create_lock(conversation_id)
            if not any(t.number < ticket and not t.has_expired() for t in lock.tickets):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
