"""Where the handoff database is, how to connect to it, and how to migrate it.

`HANDOFF_DATABASE_URL`, else `DATABASE_URL` (the deployment's PostgreSQL, shared with the
store: the tables are prefixed `handoff_` and Alembic records this schema's revision in
`handoff_alembic_version`), else the SQLite file `var/handoff.db`. The schema is created and
changed only by the migrations in `handoff/migrations/`::

    hilo migrate            # or: python -m handoff.database upgrade [REVISION]
    python -m handoff.database downgrade base
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "handoff_alembic_version"


def database_url() -> str:
    """`HANDOFF_DATABASE_URL`, `DATABASE_URL`, or var/handoff.db (directory created)."""
    url = (os.environ.get("HANDOFF_DATABASE_URL") or os.environ.get("DATABASE_URL") or "").strip()
    if url:
        return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url
    var = REPO_ROOT / "var"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'handoff.db'}"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # The desk, the action server and the Rasa server (fail-safe) use this file at once.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


READ_ONLY = "hilo_read_only"


def _sqlite_begin(connection: Any) -> None:
    # Writes: BEGIN IMMEDIATE takes the write lock at the start, so a claim (read, then update)
    # never fails halfway with "database is locked" after another writer committed in between.
    # Reads (`reader()`): a plain BEGIN, so the Rasa server's check on every turn ("do people
    # own this conversation?") never queues behind the desk's and the action server's writes.
    read_only = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def reader(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read."""
    return engine.execution_options(**{READ_ONLY: True})


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default `database_url()`), 2.0 style, with SQLite's pragmas."""
    url = url or database_url()
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, future=True, **kwargs)
    kwargs.setdefault("poolclass", QueuePool)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", 30)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, future=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(url: str | None, action: str, revision: str) -> None:
    url = url or database_url()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = _config(url)
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrades the database at `url` (default `database_url()`) to `revision`."""
    _run(url, "upgrade", revision)


def downgrade(url: str | None, revision: str) -> None:
    """Downgrades to `revision` ("base" drops every handoff table)."""
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
    """Command line: upgrade [REVISION] | downgrade REVISION | current."""
    parser = argparse.ArgumentParser(prog="python -m handoff.database")
    parser.add_argument("--url", help="database URL (default: see the module docstring)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade").add_argument("revision", nargs="?", default="head")
    commands.add_parser("downgrade").add_argument("revision")
    commands.add_parser("current")
    args = parser.parse_args(argv)
    if args.command == "current":
        print(current_revision(args.url) or "none")
    elif args.command == "upgrade":
        migrate(args.url, args.revision)
    else:
        downgrade(args.url, args.revision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
