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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from hilo import database as shared
from hilo.database import READ_ONLY, reader

__all__ = ["READ_ONLY", "current_revision", "database_url", "make_engine", "migrate", "reader"]

REPO_ROOT = shared.REPO_ROOT
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "handoff_alembic_version"
# The desk, the action server and the Rasa server (fail-safe, hand-backs) use the file at once:
# writes take the lock at their start (a claim never fails halfway), reads never queue.
_SQLITE = {"sqlite_timeout": 30, "immediate_writes": True}
_MIGRATIONS = shared.Migrations(MIGRATIONS_DIR, VERSION_TABLE, **_SQLITE)


def database_url() -> str:
    """`HANDOFF_DATABASE_URL`, `DATABASE_URL`, or var/handoff.db (hilo/database.py)."""
    return shared.database_url("HANDOFF_DATABASE_URL", "DATABASE_URL", sqlite_file="handoff.db")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default `database_url()`): hilo/database.py `make_engine`."""
    return shared.make_engine(url or database_url(), **{**_SQLITE, **kwargs})


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrades the database at `url` (default `database_url()`) to `revision`."""
    _MIGRATIONS.upgrade(url or database_url(), revision)


def downgrade(url: str | None, revision: str) -> None:
    """Downgrades to `revision` ("base" drops every handoff table)."""
    _MIGRATIONS.downgrade(url or database_url(), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    return _MIGRATIONS.current(url or database_url())


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
