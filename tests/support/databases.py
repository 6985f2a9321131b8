"""Empty test databases: a SQLite file, or a fresh PostgreSQL schema dropped afterwards.

PostgreSQL runs when HILO_TEST_POSTGRES_URL is set (CI sets it, and fails without it there).
Every PostgreSQL test database lives in its own schema, so nothing is left behind in the
shared test database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("HILO_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def require_postgres() -> str:
    """The PostgreSQL URL; skips the test without one (fails in CI, which must test PG)."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must set HILO_TEST_POSTGRES_URL so the PostgreSQL path is tested")
        pytest.skip("HILO_TEST_POSTGRES_URL is not set (CI sets it; see .ci/run)")
    return POSTGRES_URL


@contextmanager
def postgres_schema(prefix: str = "hilo_test", server: str | None = None) -> Iterator[str]:
    """A database URL whose connections work in a new, empty schema, dropped afterwards.

    `server`: the PostgreSQL URL (default: HILO_TEST_POSTGRES_URL, or skip).
    """
    base = make_url(server or require_postgres())
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, future=True)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database(kind: str, directory: Path, name: str = "test") -> Iterator[str]:
    """A URL of an empty database of that kind: a SQLite file in `directory`, or a PG schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        return
    with postgres_schema(f"hilo_{name}_test") as url:
        yield url
