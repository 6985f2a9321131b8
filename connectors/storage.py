"""The channels database: inbox, outbound messages, conversations and customer profiles.

One SQLAlchemy 1.4 engine (2.0-style API) per process, from `CHANNELS_DATABASE_URL`, else
`DATABASE_URL` (default: `var/channels.db`, SQLite). PostgreSQL works unchanged
(`postgresql://user@host/db`). The schema is Alembic's (connectors/migrations/, versioned in
`channels_alembic_version`), brought up to date when a process opens the database; the
tables belong to the connectors alone (the desk reads them through connectors/history.py).

SQLite is opened in WAL mode with `synchronous=FULL`: an inbound message is on disk before the
webhook acknowledges it, and readers (the desk, the sandbox page) never block the writer.
Writes go through `Database.write`, one thread with group commit on SQLite (see `Database`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from hilo import database as shared

T = TypeVar("T")
logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "channels_alembic_version"
_MIGRATIONS = shared.Migrations(MIGRATIONS_DIR, VERSION_TABLE)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Every customer message, stored before it is acknowledged. (channel, provider_id) is unique:
# a provider's retry of the same delivery is acknowledged and not stored again.
inbound = sa.Table(
    "channel_inbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("provider_id", sa.String(255), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # InboundMessage.to_json()
    # pending -> processing -> done | failed
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("processed_at", sa.Float),
    sa.Column("error", sa.String(255)),
    sa.UniqueConstraint("channel", "provider_id", name="uq_channel_inbound_delivery"),
    sa.Index("ix_channel_inbound_pending", "status", "conversation_id", "sent_at"),
    sa.Index("ix_channel_inbound_conversation", "conversation_id", "id"),
)

# Every message sent (or refused) on a channel, with the provider's id and the latest status.
# (reply_to, seq) is unique: the n-th reply to an inbound message is sent once, even when the
# message is processed again after a crash.
outbound = sa.Table(
    "channel_outbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("reply_to", sa.Integer),  # channel_inbound.id being answered; NULL otherwise
    sa.Column("seq", sa.Integer),
    sa.Column("source", sa.String(16), nullable=False),  # bot | agent | handoff | system
    sa.Column("author", sa.String(120)),  # the agent who wrote it (source agent)
    sa.Column("kind", sa.String(16), nullable=False),  # text | buttons | image | …
    sa.Column("body", sa.Text, nullable=False),  # OutboundPart.to_dict() as JSON
    sa.Column("provider_id", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_message", sa.String(500)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("reply_to", "seq", name="uq_channel_outbound_reply"),
    sa.Index("ix_channel_outbound_provider", "channel", "provider_id"),
    sa.Index("ix_channel_outbound_conversation", "conversation_id", "id"),
)

# A person, linked across channels by phone number.
profiles = sa.Table(
    "customer_profiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("phone", sa.String(32), unique=True),
    sa.Column("display_name", sa.String(255)),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One conversation per channel identity: its profile, the messaging window (time of the
# customer's last message) and the buttons last offered (numbered replies map back to them).
conversations = sa.Table(
    "channel_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("profile_id", sa.Integer, sa.ForeignKey("customer_profiles.id"), nullable=False),
    sa.Column("display_name", sa.String(255)),
    sa.Column("phone", sa.String(32)),
    sa.Column("first_seen_at", sa.Float, nullable=False),
    sa.Column("last_inbound_at", sa.Float),
    sa.Column("offered_buttons", sa.Text),  # JSON list of [title, payload]
    sa.Index("ix_channel_conversations_profile", "profile_id"),
)


# PostgreSQL NOTIFY channels (connectors/notifications.py): a message stored or changed in
# either direction (the desks listen), and a customer's message stored (the dispatchers listen).
CHANGES_CHANNEL = "hilo_channels"
NEW_MESSAGES_CHANNEL = "hilo_inbox"


def announce_change(connection: Connection, *, new_message: bool = False) -> None:
    """Wakes whoever listens for changes when this transaction commits (PostgreSQL).

    `new_message`: a customer's message was stored, which the dispatchers listen for too.
    The notifications carry nothing (no id, no text): listeners read what changed from the
    tables. PostgreSQL folds identical notifications of one transaction into one.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_notify(CHANGES_CHANNEL, "")))
        if new_message:
            connection.execute(sa.select(sa.func.pg_notify(NEW_MESSAGES_CHANNEL, "")))


def database_url() -> str:
    """`CHANNELS_DATABASE_URL`, `DATABASE_URL`, or var/channels.db (hilo/database.py)."""
    return shared.database_url("CHANNELS_DATABASE_URL", "DATABASE_URL", sqlite_file="channels.db")


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`), with the tables created."""
    url = url or database_url()
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The webhook (server loop) and the bot (its own thread) share the engine; keep the
        # connections open (SQLAlchemy 1.4 opens a new one per use for SQLite files, and
        # each open costs the pragmas below).
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["pool_size"] = 8
    else:
        kwargs["pool_pre_ping"] = True
    migrate(url)
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(url: str | None = None) -> None:
    """Brings the channels schema at `url` to the newest migration (connectors/migrations/).

    Run by every process that opens the database (a no-op when it is up to date), and by
    hand: `python -m connectors.storage upgrade`. A database made before the migrations
    (by create_all) is adopted by the first one.
    """
    _MIGRATIONS.ensure(url or database_url())


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL for concurrent readers; FULL sync so an acknowledged message survives a crash.

    No automatic checkpoints: SQLite would run one inside whichever commit passes 1,000 WAL
    pages, and every acknowledgement queued behind that commit would wait for it (stalls of
    hundreds of milliseconds at load). `_Checkpointer` runs them on its own connection.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class _Checkpointer:
    """Copies the WAL back into the database every few seconds, beside the writer.

    A PASSIVE checkpoint never waits for the writer or readers: it copies what it can, and
    the WAL starts over once everything in it is copied and nobody reads it.
    """

    EVERY_SECONDS = 2.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hilo-db-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread at its next wake-up (it holds no write to finish)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self.EVERY_SECONDS):
            try:
                with self.engine.connect() as connection:
                    connection.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception as error:  # the next round tries again; it is never urgent
                logger.warning(
                    "connectors.storage.checkpoint_failed error=%s", type(error).__name__
                )


class Database:
    """The channels database: reads on any connection, writes through `write()`.

    SQLite allows one writer at a time, and a writer that finds the database locked sleeps in
    steps of milliseconds: with the webhook and the bot thread writing at once, an
    acknowledgement waited hundreds of milliseconds behind the bot's bookkeeping (measured in
    bench/channels.py). So on SQLite every write goes through one thread that commits whatever
    is waiting in a single transaction (group commit: one fsync for many messages) and nothing
    ever waits for the lock. PostgreSQL takes concurrent writers: each write is its own
    transaction in the calling thread.
    """

    def __init__(self, engine: Engine) -> None:
        """Wraps `engine` (tables already created, see `make_engine`)."""
        self.engine = engine
        self._serial = _SerialWriter(engine) if engine.dialect.name == "sqlite" else None
        self._checkpoints = _Checkpointer(engine) if self._serial is not None else None
        # The threads hold the writer and the checkpointer, never this object: once nobody
        # holds the Database, the finalizer ends them. Without it every Database made and
        # dropped (a tool's, a test's) left two threads waking forever; a test run once
        # ended with 6,000 of them and a load average of 150.
        self._close = weakref.finalize(self, _stop, self._serial, self._checkpoints)

    def close(self) -> None:
        """Ends the writer (after the writes already submitted) and the checkpointer."""
        self._close()

    def write(self, job: Callable[[Connection], T], *, durable: bool = False) -> T:
        """Runs `job(connection)` in a committed transaction; returns its result (blocking).

        `durable`: on disk (fsync) before this returns, as an acknowledged message must be.
        Other writes on SQLite survive a crash of the process (WAL) but may lose the last
        moments to a power cut: the bookkeeping of a turn, which is then done again.
        """
        if self._serial is not None:
            return self._serial.submit(job, durable).result()
        with self.engine.begin() as connection:
            return job(connection)

    async def write_async(self, job: Callable[[Connection], T], *, durable: bool = False) -> T:
        """`write` without blocking the event loop."""
        if self._serial is not None:
            return await asyncio.wrap_future(self._serial.submit(job, durable))
        return await asyncio.to_thread(self.write, job)

    def insert_ignoring_conflict(
        self, connection: Connection, table: sa.Table, values: dict[str, Any], keys: list[str]
    ) -> int | None:
        """INSERT … ON CONFLICT (keys) DO NOTHING; the new row's id, or None if it existed.

        No exception on a duplicate, so one message's duplicate never rolls back the other
        writes committed with it.
        """
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            statement = (
                postgresql.insert(table)
                .values(**values)
                .on_conflict_do_nothing(index_elements=keys)
                .returning(table.c.id)
            )
            return connection.execute(statement).scalar()
        if dialect == "sqlite":
            result = connection.execute(
                sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
            )
            return int(result.inserted_primary_key[0]) if result.rowcount else None
        raise NotImplementedError(
            f"the channels database supports SQLite and PostgreSQL, not {dialect}"
        )


def _stop(serial: _SerialWriter | None, checkpoints: _Checkpointer | None) -> None:
    if serial is not None:
        serial.stop()
    if checkpoints is not None:
        checkpoints.stop()


def as_database(store: Database | Engine) -> Database:
    """A `Database` for an engine (tests and tools pass engines)."""
    return store if isinstance(store, Database) else Database(store)


class _SerialWriter:
    """One thread owning every write to an SQLite database, committing in batches."""

    MAX_BATCH = 256

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: stop
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="hilo-db-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[Connection], T], durable: bool) -> Future[T]:
        if self._stopped:
            raise RuntimeError("the database was closed")  # nobody would ever write it
        future: Future[T] = Future()
        self._jobs.put(_Job(job, future, durable))
        return future

    def stop(self) -> None:
        """Ends the thread once the writes submitted before this are committed."""
        self._stopped = True
        self._jobs.put(None)

    def _run(self) -> None:
        while self._once():
            pass

    def _once(self) -> bool:
        """Commits one batch; False once told to stop.

        A method of its own so that no job outlives its batch in a local variable while the
        thread waits for the next: a job's closure can hold the Database (through its inbox),
        which would then never be collected nor its threads ended.
        """
        items = self._take()
        # A waiter that gave up (a webhook whose client hung up is cancelled) cancels its
        # job: skip it, unacknowledged as it is. Setting a cancelled future's result raised
        # here and ended this thread, and every later write waited forever.
        batch = [
            item
            for item in items
            if item is not None and item.future.set_running_or_notify_cancel()
        ]
        if batch:
            self._write(batch)
        if items[-1] is not None:
            return True
        # Stopped: what came before is written. A write that raced close() past its check
        # fails instead of waiting forever.
        while True:
            try:
                late = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if late is not None and late.future.set_running_or_notify_cancel():
                late.future.set_exception(RuntimeError("the database was closed"))

    def _take(self) -> list[_Job | None]:
        """The next job, waiting for it, and whatever else is already queued (one batch)."""
        items = [self._jobs.get()]
        while len(items) < self.MAX_BATCH and items[-1] is not None:
            try:
                items.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return items

    def _write(self, batch: list[_Job]) -> None:
        durable = any(job.durable for job in batch)
        try:
            results = self._commit(batch, durable)
        except Exception:
            # One job failed and rolled the batch back: run each alone, so only it fails.
            results = [self._alone(job) for job in batch]
        for job, (value, error) in zip(batch, results, strict=True):
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(value)

    def _commit(self, batch: list[_Job], durable: bool) -> list[tuple[Any, BaseException | None]]:
        with self.engine.connect() as connection:
            # Outside any transaction yet (pysqlite begins at the first write).
            connection.connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            with connection.begin():
                return [(job.run(connection), None) for job in batch]

    def _alone(self, job: _Job) -> tuple[Any, BaseException | None]:
        try:
            return self._commit([job], durable=True)[0]
        except Exception as error:
            return None, error


@dataclass(frozen=True)
class _Job:
    run: Callable[[Connection], Any]
    future: Future[Any]
    durable: bool


def main(argv: list[str] | None = None) -> None:
    """`python -m connectors.storage upgrade|current`: the channels schema by hand."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m connectors.storage")
    parser.add_argument("action", choices=["upgrade", "current"])
    parser.add_argument("--url", help="database URL (default: CHANNELS_DATABASE_URL, …)")
    arguments = parser.parse_args(argv)
    url = arguments.url or database_url()
    if arguments.action == "upgrade":
        migrate(url)
    print(f"channels schema: revision {_MIGRATIONS.current(url)}")


if __name__ == "__main__":
    main()
