"""Wake-ups across processes: PostgreSQL LISTEN on what connectors/storage.py NOTIFYs.

Two channels, both without payload (no id, no text; listeners read the tables):

- `CHANGES_CHANNEL`: a message was stored or changed, in either direction. The desk listens
  so that every desk sees new messages within a second whichever replica stored them.
- `NEW_MESSAGES_CHANNEL`: a customer's message was stored. The replicas' dispatchers listen
  so that a message acknowledged by another process (a webhook intake, connectors/intake.py,
  or another replica) starts its turn at once rather than at the next sweep.

On SQLite there is one process and nothing to listen to: `ChangeListener.available` is False.
"""

from __future__ import annotations

import logging
import selectors
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from connectors.storage import CHANGES_CHANNEL

logger = logging.getLogger(__name__)


class ChangeListener:
    """Calls `wake()` from its own thread whenever `channel` is notified (PostgreSQL).

    The connection is a plain psycopg2 one outside the pool, in autocommit, LISTENing; if it
    drops (the database restarts), the thread connects again every second, and wakes once on
    reconnecting: notifications missed meanwhile cost nothing, since the listener's owner
    reads the tables when woken (and polls anyway, as a fallback).
    """

    def __init__(
        self, engine: Engine, wake: Callable[[], None], channel: str = CHANGES_CHANNEL
    ) -> None:
        """Listens on `engine`'s database (PostgreSQL only); call `start()`."""
        self.engine = engine
        self.wake = wake
        self.channel = channel
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hilo-listen", daemon=True)
        self.listening = False  # LISTENing now (False while connecting again)

    @staticmethod
    def available(engine: Engine) -> bool:
        """Whether the database can notify (PostgreSQL)."""
        return engine.dialect.name == "postgresql"

    def start(self) -> None:
        """Starts listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops within a second."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._listen()
            except Exception as error:  # the database is away: try again in a second
                logger.warning("connectors.listen.failed error=%s", type(error).__name__)
            self._stopped.wait(1.0)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        try:
            connection: Any = raw.dbapi_connection
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {self.channel}")
            self.listening = True
            self.wake()  # anything stored while no one listened is looked at now
            # A selector, not select.select(): a process with more than 1,024 open files (a
            # busy replica, a long test run) gets descriptors select() refuses (ValueError).
            with selectors.DefaultSelector() as selector:
                selector.register(connection, selectors.EVENT_READ)
                while not self._stopped.is_set():
                    if selector.select(timeout=1.0):
                        connection.poll()
                        if connection.notifies:
                            connection.notifies.clear()
                            self.wake()
        finally:
            self.listening = False
            raw.invalidate()  # never back to the pool in LISTEN/autocommit state
