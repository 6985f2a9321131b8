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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from hilo import database as shared

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

REPO_ROOT = shared.REPO_ROOT
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "commerce_alembic_version"
# Lookups wait up to 15 s for another writer rather than fail at once.
_SQLITE = {"sqlite_timeout": 15}
_MIGRATIONS = shared.Migrations(MIGRATIONS_DIR, VERSION_TABLE, **_SQLITE)


def database_url() -> str:
    """`DATABASE_URL`, or the SQLite file `var/commerce.db` (hilo/database.py)."""
    return shared.database_url("DATABASE_URL", sqlite_file="commerce.db")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`): hilo/database.py `make_engine`."""
    return shared.make_engine(url or database_url(), **{**_SQLITE, **kwargs})


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrades the database at `url` (default: `database_url()`) to `revision`."""
    _MIGRATIONS.upgrade(url or database_url(), revision)


def downgrade(url: str | None, revision: str) -> None:
    """Downgrades the database at `url` to `revision` ("base" drops every commerce table)."""
    _MIGRATIONS.downgrade(url or database_url(), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    return _MIGRATIONS.current(url or database_url())


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
