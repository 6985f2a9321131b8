"""Tests of the commerce data layer (actions/commerce), on SQLite and PostgreSQL.

PostgreSQL runs when HILO_TEST_POSTGRES_URL is set (CI sets it; it fails without it there).
Every PostgreSQL test database lives in its own schema, created for it and dropped after,
so nothing is left behind in the shared test database (Rasa's tracker-store tests use it).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from tests.support import databases
from tests.support.databases import BACKENDS, postgres_schema, require_postgres

__all__ = ["BACKENDS", "NOW", "database", "postgres_schema", "require_postgres"]

# The moment the tests' demo data is seeded at: dates in the seed are relative to it.
NOW = datetime(2025, 3, 14, 18, 30, tzinfo=timezone.utc)


def database(kind: str, directory: Path) -> AbstractContextManager[str]:
    """A URL of an empty commerce database of that kind."""
    return databases.database(kind, directory, "commerce")
