"""Where the commerce database is, how to connect to it, and how to migrate it.

`DATABASE_URL` chooses the database (any SQLAlchemy URL: `postgresql://user@host/db`,
`sqlite:///path`); without it the demo runs on `var/commerce.db` in the repository, so
`make run` needs no setup. The schema is created and changed only by the Alembic migrations
in `actions/commerce/migrations/`, run programmatically (no alembic.ini needed)::

    python -m actions.commerce.database upgrade [REVISION]   # default: head
    python -m actions.commerce.database downgrade REVISION   # e.g. base
    python -m actions.commerce.database current

Alembic records the revision in `commerce_alembic_version`, not the default
`alembic_version`, so the commerce schema can share a database with other Alembic-managed
schemas.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import QueuePool

__all__ = [
    "MIGRATIONS_DIR",
    "REPO_ROOT",
    "VERSION_TABLE",
    "current_revision",
    "database_url",
    "downgrade",
    "make_engine",
    "migrate",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "commerce_alembic_version"


def database_url() -> str:
    """`DATABASE_URL`, or the SQLite file `var/commerce.db` (its directory created if needed).

    `postgres://` (as some hosts spell it) is read as `postgresql://`, which SQLAlchemy needs.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return url
    var = REPO_ROOT / "var"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'commerce.db'}"


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL: readers (order lookups in other processes) do not wait for a writer to commit.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # The sqlite3 module would begin a transaction only before the first INSERT/UPDATE/DELETE,
    # so reads before it would see other commits mid-transaction. Begin explicitly instead
    # (SQLAlchemy's documented recipe for pysqlite).
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`), in SQLAlchemy's 2.0 mode.

    SQLite connections get foreign keys on, WAL journaling (file databases) and real
    transactions; they wait up to 15 s for another writer instead of failing at once.

    Args:
        url: SQLAlchemy database URL.
        **kwargs: Passed to `sqlalchemy.create_engine` (pool sizes, echo...).
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, future=True, **kwargs)
    if parsed.database not in (None, "", ":memory:"):
        # SQLAlchemy 1.4 defaults to opening a new connection per checkout for SQLite files
        # (NullPool); reusing connections saves the open and the pragmas on every lookup.
        kwargs.setdefault("poolclass", QueuePool)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", 15)
    # Connections are used by one thread at a time (the pool hands them out); the action
    # server runs actions in threads.
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, future=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates "%": escape it (URL-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    # On the DBAPI connection: through SQLAlchemy, the statement would begin a transaction
    # (_sqlite_begin), and SQLite ignores this pragma inside one.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


def _run(url: str | None, action: str, revision: str) -> None:
    url = url or database_url()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # SQLite: batch migrations rebuild a table (copy, drop, rename), and dropping a
            # table that other rows reference fails while foreign keys are enforced. SQLite's
            # documented procedure: foreign keys off outside the transaction, rebuild, run
            # PRAGMA foreign_key_check before committing, foreign keys back on.
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                _sqlite_foreign_keys(connection, enabled=False)
            try:
                with connection.begin():
                    config = _config(url)
                    # env.py migrates on this connection (Alembic's "sharing a connection"
                    # recipe), so SQLite gets the pragmas above and the whole run is one
                    # transaction.
                    config.attributes["connection"] = connection
                    if action == "upgrade":
                        command.upgrade(config, revision)
                    else:
                        command.downgrade(config, revision)
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(
                                f"migration rolled back: it would leave {len(broken)} broken "
                                f"foreign key reference(s), e.g. {tuple(broken[0])}"
                            )
            finally:
                if sqlite:
                    _sqlite_foreign_keys(connection, enabled=True)
    finally:
        engine.dispose()


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrades the database at `url` (default: `database_url()`) to `revision`."""
    _run(url, "upgrade", revision)


def downgrade(url: str | None, revision: str) -> None:
    """Downgrades the database at `url` to `revision` ("base" drops every commerce table)."""
    _run(url, "downgrade", revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            revision: str | None = context.get_current_revision()
            return revision
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: upgrade [REVISION] | downgrade REVISION | current | prune."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.commerce.database", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/commerce.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade_parser = commands.add_parser("upgrade", help="migrate up (default: to head)")
    upgrade_parser.add_argument("revision", nargs="?", default="head")
    downgrade_parser = commands.add_parser("downgrade", help="migrate down to REVISION")
    downgrade_parser.add_argument("revision")
    commands.add_parser("current", help="print the current revision")
    commands.add_parser(
        "prune", help="forget old lookup attempts, wrong proofs and expired one-time codes"
    )
    args = parser.parse_args(argv)
    if args.command == "prune":
        from actions.commerce.sql import SqlCommerceBackend

        engine = make_engine(args.url)
        store = SqlCommerceBackend(engine)
        counts = (
            store.prune_lookup_attempts(),
            store.prune_verification_failures(),
            store.prune_codes(),
        )
        engine.dispose()
        print("commerce: forgot {} lookup attempts, {} wrong proofs, {} codes".format(*counts))
    elif args.command == "upgrade":
        migrate(args.url, args.revision)
    elif args.command == "downgrade":
        downgrade(args.url, args.revision)
    else:
        print(current_revision(args.url) or "base (not migrated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
