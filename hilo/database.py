"""Engines, URLs and Alembic migrations for Hilo's own databases (the store and the handoff).

Both schemas live in any SQLAlchemy database: SQLite files under var/ by default, or the
deployment's PostgreSQL, side by side (each records its revision in its own version table).
They used to carry two near-copies of this code that had drifted (one checked foreign keys
after a SQLite migration, the other did not); this is the one copy.

- `database_url()`: the first of the given environment variables that is set, else a SQLite
  file under var/ (its directory created). `postgres://`, as some hosts spell it, is read as
  `postgresql://`, which SQLAlchemy needs.
- `make_engine()`: SQLAlchemy's 2.0 mode. PostgreSQL connections are checked before use
  (a database that restarted does not fail the next request). SQLite connections get foreign
  keys, WAL (readers in other processes never wait for a writer) and real transactions,
  begun by SQLAlchemy; with `immediate_writes` a writing transaction takes the write lock at
  its start (BEGIN IMMEDIATE), so a read-then-update never fails halfway, and `reader()`
  gives the same engine for transactions that only read.
- `Migrations`: upgrade, downgrade and the current revision, run in code (no alembic.ini).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

REPO_ROOT = Path(__file__).resolve().parent.parent
READ_ONLY = "hilo_read_only"
# "The database cannot be reached right now" (down, restarting, locked, out of connections),
# as opposed to "this request is wrong" (DataError, IntegrityError): servers answer these 503
# so that the caller tries again, and the others are bugs or bad input, never a 503.
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def database_url(*variables: str, sqlite_file: str) -> str:
    """The first set variable's URL, else `sqlite:///var/<sqlite_file>`."""
    for name in variables:
        url = os.environ.get(name, "").strip()
        if url:
            return (
                "postgresql://" + url[len("postgres://") :]
                if url.startswith("postgres://")
                else url
            )
    var = REPO_ROOT / "var"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / sqlite_file}"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see make_engine).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def reader(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read (a plain BEGIN on SQLite)."""
    return engine.execution_options(**{READ_ONLY: True})


def make_engine(
    url: str, *, sqlite_timeout: float = 30, immediate_writes: bool = False, **kwargs: Any
) -> Engine:
    """An engine for `url` (see the module docstring); `kwargs` go to `create_engine`."""
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, future=True, **kwargs)
    if make_url(url).database not in (None, "", ":memory:"):
        # SQLAlchemy 1.4 opens a new connection per checkout for SQLite files (NullPool);
        # reusing them saves the open and the pragmas every time.
        kwargs.setdefault("poolclass", QueuePool)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", sqlite_timeout)
    # A connection is used by one thread at a time (the pool hands it out); servers run
    # database work in threads.
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, future=True, connect_args=connect_args, **kwargs)

    def begin(connection: Any) -> None:
        # The sqlite3 module would begin only before the first write, so earlier reads would
        # see other commits mid-transaction: begin explicitly (SQLAlchemy's pysqlite recipe).
        read_only = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql(
            "BEGIN IMMEDIATE" if immediate_writes and not read_only else "BEGIN"
        )

    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", begin)
    return engine


def _sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    # On the DBAPI connection: through SQLAlchemy the statement would begin a transaction,
    # and SQLite ignores this pragma inside one.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


class Migrations:
    """One schema's Alembic migrations (`directory`), versioned in `version_table`."""

    def __init__(self, directory: Path, version_table: str, **engine_options: Any) -> None:
        """`engine_options` are make_engine's (the schema's SQLite settings)."""
        self.directory = directory
        self.version_table = version_table
        self._engine_options = engine_options
        digest = hashlib.blake2b(f"hilo.migrations:{version_table}".encode(), digest_size=8)
        self._lock_key = int.from_bytes(digest.digest(), "big", signed=True)
        self._head: str | None = None

    def head(self) -> str | None:
        """The newest revision in `directory` (read once)."""
        if self._head is None:
            config = Config()
            config.set_main_option("script_location", str(self.directory))
            self._head = ScriptDirectory.from_config(config).get_current_head()
        return self._head

    def ensure(self, url: str) -> None:
        """Upgrades the database at `url` to the newest revision unless it is there already.

        For stores that migrate themselves when a process opens them (the channels): the
        check is one small query, the upgrade runs once per new revision.
        """
        if self.current(url) != self.head():
            self.upgrade(url)

    def _config(self, url: str) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        # ConfigParser interpolates "%": escape it (URL-encoded passwords contain it).
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def _run(self, url: str, action: str, revision: str) -> None:
        engine = make_engine(url, **self._engine_options)
        try:
            with engine.connect() as connection:
                # SQLite: batch migrations rebuild a table (copy, drop, rename), and dropping a
                # table that other rows reference fails while foreign keys are enforced.
                # SQLite's documented procedure: foreign keys off outside the transaction,
                # rebuild, PRAGMA foreign_key_check before committing, foreign keys back on.
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    _sqlite_foreign_keys(connection, enabled=False)
                try:
                    with connection.begin():
                        if connection.dialect.name == "postgresql":
                            # Replicas start together: one migrates, the others wait here
                            # and then find the schema at its revision (a transaction lock).
                            connection.exec_driver_sql(
                                f"SELECT pg_advisory_xact_lock({self._lock_key})"
                            )
                        config = self._config(url)
                        config.attributes["connection"] = connection
                        if action == "upgrade":
                            command.upgrade(config, revision)
                        else:
                            command.downgrade(config, revision)
                        if sqlite:
                            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                            if broken:
                                raise RuntimeError(
                                    f"migration rolled back: it would leave {len(broken)} "
                                    f"broken foreign key reference(s), e.g. {tuple(broken[0])}"
                                )
                finally:
                    if sqlite:
                        _sqlite_foreign_keys(connection, enabled=True)
        finally:
            engine.dispose()

    def upgrade(self, url: str, revision: str = "head") -> None:
        """Upgrades the database at `url` to `revision`."""
        self._run(url, "upgrade", revision)

    def downgrade(self, url: str, revision: str) -> None:
        """Downgrades the database at `url` to `revision` ("base" drops the schema's tables)."""
        self._run(url, "downgrade", revision)

    def current(self, url: str) -> str | None:
        """The revision the database is at, or None if it was never migrated."""
        engine = make_engine(url, **self._engine_options)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"version_table": self.version_table}
                )
                revision: str | None = context.get_current_revision()
                return revision
        finally:
            engine.dispose()
