"""The channels schema is Alembic's: it matches the tables the code uses, and adopts old files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connectors import storage
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path, "channels_migrations") as url:
        yield url


def test_the_migrations_build_exactly_the_tables_the_code_declares(url: str) -> None:
    """A table or column changed in connectors/storage.py without a migration fails here."""
    storage.migrate(url)
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": storage.VERSION_TABLE}
            )
            differences = [
                diff
                for diff in compare_metadata(context, storage.metadata)
                if not (diff[0] == "remove_table" and diff[1].name == storage.VERSION_TABLE)
            ]
    finally:
        engine.dispose()
    assert differences == []


def test_a_database_made_by_create_all_is_adopted_with_its_rows(url: str) -> None:
    """Before the migrations, create_all made the tables and ALTERs added columns later: an
    old file (here without `channel_inbound.error`) keeps its messages and gains the column."""
    old = sa.MetaData()
    for table in storage.metadata.sorted_tables:
        columns = [
            sa.Column(
                column.name,
                column.type,
                *[sa.ForeignKey(key.target_fullname) for key in column.foreign_keys],
                primary_key=column.primary_key,
                nullable=column.nullable,
            )
            for column in table.columns
            if (table.name, column.name) != ("channel_inbound", "error")
        ]
        sa.Table(table.name, old, *columns)
    engine = sa.create_engine(url, future=True)
    try:
        old.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO channel_inbound (channel, provider_id, conversation_id, sent_at,"
                    " received_at, body, status, attempts)"
                    " VALUES ('telegram', 'm1', 'telegram:1', 1, 1, '{}', 'pending', 0)"
                )
            )
        storage.migrate(url)
        storage.migrate(url)  # idempotent
        with engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("channel_inbound")}
            count = connection.execute(sa.text("SELECT count(*) FROM channel_inbound")).scalar()
            revision = connection.execute(
                sa.text("SELECT version_num FROM channels_alembic_version")
            ).scalar()
    finally:
        engine.dispose()
    assert "error" in columns
    assert count == 1
    assert revision == "0001"


def test_make_engine_migrates_a_new_database(tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"channel_inbound", "channel_outbound", storage.VERSION_TABLE} <= tables
