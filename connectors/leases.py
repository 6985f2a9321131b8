"""Which process works on a conversation now: one at a time, across every replica.

Several Rasa servers (replicas) share one channels database, and a webhook may land on any of
them. A conversation's messages must still be processed by one process at a time, in order.
Hilo does not invent a protocol for that: on PostgreSQL a *lease* is a session-level advisory
lock (`pg_try_advisory_lock`) on a connection held for the length of a turn. PostgreSQL drops
it by itself when the holder's connection ends, so a replica killed with -9 loses its leases
the moment its sockets close, and another replica takes its conversations over at its next
sweep (connectors/dispatcher.py). Nothing to expire, no clock to trust.

On SQLite there is one process (SQLite is the embedded, single-machine default): the
dispatcher's lanes already keep a conversation on one task, so the lease always succeeds.

Caveat, measured in bench/cluster.py and written in docs/deployment.md: if the database
restarts in the middle of a turn, the lease is gone while the turn goes on. Another replica
may then process the same message; the outbound store's unique (reply_to, seq) still sends
each reply once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

# Advisory locks share one 64-bit key space per database; Hilo's keys carry this namespace in
# their hash so that another application's locks on the same database cannot collide by design.
NAMESPACE = b"hilo.conversation:"


class Leases(Protocol):
    """Takes a conversation for one turn, or says another process has it."""

    shared: bool
    """True when other processes may hold leases too (then the dispatcher sweeps for work)."""

    def hold(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """Yields True while this process holds the conversation, False if another does."""


class LocalLeases:
    """One process: the dispatcher's lanes are the lease."""

    shared = False

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[bool]:
        """Always held."""
        yield True


def lease_key(conversation_id: str) -> int:
    """The conversation's advisory-lock key: a signed 64-bit hash (collisions only serialize)."""
    digest = hashlib.blake2b(NAMESPACE + conversation_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLeases:
    """PostgreSQL advisory locks, one pooled connection per lease held."""

    shared = True

    def __init__(self, engine: Engine) -> None:
        """Uses `engine`'s pool (PostgreSQL)."""
        self.engine = engine

    def _acquire(self, key: int) -> Connection | None:
        connection = self.engine.connect()
        try:
            held = connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar_one()
            connection.commit()  # a session lock outlives the transaction that took it
        except BaseException:
            connection.close()
            raise
        if not held:
            connection.close()
            return None
        return connection

    @staticmethod
    def _release(connection: Connection, key: int) -> None:
        try:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            connection.commit()
        except Exception as error:  # the connection is gone, and its locks with it
            logger.warning("connectors.lease.release_failed error=%s", type(error).__name__)
            connection.invalidate()
        finally:
            connection.close()

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[bool]:
        """Holds the conversation's advisory lock for the block, if no one else does."""
        key = lease_key(conversation_id)
        connection = await asyncio.to_thread(self._acquire, key)
        if connection is None:
            yield False
            return
        try:
            yield True
        finally:
            await asyncio.to_thread(self._release, connection, key)


def leases_for(engine: Engine) -> LocalLeases | AdvisoryLeases:
    """Advisory locks on PostgreSQL; the in-process lanes on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLeases(engine)
    return LocalLeases()
