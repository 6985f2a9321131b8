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


class Outage:
    """Takes a PostgreSQL database down and up again, as a crash or a failover would."""

    def __init__(self, admin: sa.engine.Engine, name: str) -> None:
        self._admin, self._name = admin, name

    def down(self) -> None:
        """No new connections, and every open one cut."""
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self._name},
            )

    def up(self) -> None:
        """Connections are accepted again."""
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS true'))


@contextmanager
def database_that_goes_down(prefix: str = "hilo_outage") -> Iterator[tuple[str, Outage]]:
    """A new PostgreSQL database (dropped afterwards) and the switch that takes it down."""
    base = make_url(require_postgres())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    outage = Outage(admin, name)
    try:
        yield base.set(database=name).render_as_string(hide_password=False), outage
    finally:
        outage.up()
        outage.down()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
