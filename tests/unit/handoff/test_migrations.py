"""The handoff schema is Alembic's: it matches the tables the code uses, and 0003 fills in who
owns each conversation from the cases that said so before (SQLite and PostgreSQL, online and
offline)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from handoff.database import MIGRATIONS_DIR, VERSION_TABLE, downgrade, make_engine, migrate
from handoff.models import cases, metadata, ownership
from handoff.store import CaseStore
from tests.support.databases import BACKENDS, database
from tests.unit.handoff.conftest import new

# conversation → the statuses of its cases, oldest first, as the desk left them before 0003
BEFORE = {
    "again": ("bot", "queued"),  # handed back once, with people again
    "assigned": ("assigned",),
    "closed": ("closed",),
    "resolved": ("resolved",),  # the hand-back was pending when the migration ran
    "twice": ("bot", "bot"),
    "back": ("bot", "resolved"),
}
# conversation → (owner, index of the case it names, pending)
AFTER = {
    "again": ("people", 1, None),
    "assigned": ("people", 0, None),
    "closed": ("people", 0, None),
    "resolved": ("people", 0, "to_bot"),
    "twice": ("bot", 1, None),
    "back": ("people", 1, "to_bot"),
}


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path, "handoff_migrations") as url:
        yield url


def test_the_migrations_build_exactly_the_tables_the_code_declares(url: str) -> None:
    """A table, column or index changed in handoff/models.py without a migration fails here."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                if not (diff[0] == "remove_table" and diff[1].name == VERSION_TABLE)
            ]
    finally:
        engine.dispose()
    assert differences == []


def fill(url: str) -> dict[str, list[int]]:
    """The cases of `BEFORE`, written as the 0002 schema had them; their ids."""
    engine = make_engine(url)
    now = time.time()
    ids: dict[str, list[int]] = {}
    try:
        with engine.begin() as connection:
            for step, (conversation, statuses) in enumerate(BEFORE.items()):
                for index, status in enumerate(statuses):
                    at = now - 1000 + 10 * step + index
                    row = {
                        "conversation_id": conversation,
                        "channel": "whatsapp",
                        "status": status,
                        "reason": "customer_asked",
                        "priority": "normal",
                        "language": "es",
                        "created_at": at,
                        "sla_due_at": at + 3600,
                        "urgent_at": at + 3600,
                        "updated_at": at + 5,
                    }
                    inserted = connection.execute(cases.insert().values(**row))
                    ids.setdefault(conversation, []).append(int(inserted.inserted_primary_key[0]))
    finally:
        engine.dispose()
    return ids


def records(url: str) -> dict[str, sa.engine.Row]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {row.conversation_id: row for row in connection.execute(sa.select(ownership))}
    finally:
        engine.dispose()


def test_the_owner_of_each_conversation_is_filled_in_from_its_latest_case(empty: str) -> None:
    migrate(empty, "0002")
    ids = fill(empty)
    migrate(empty)
    found = records(empty)
    assert set(found) == set(BEFORE)
    for conversation, (owner, index, pending) in AFTER.items():
        row = found[conversation]
        assert (row.owner, row.case_id, row.pending) == (owner, ids[conversation][index], pending)
        assert (row.applied_at is None) == (pending is not None)
    store = CaseStore(make_engine(empty))
    try:
        assert store.parked("resolved")  # still silent until the hand-back is applied
        assert not store.parked("twice")
        assert [r.conversation_id for r in store.pending_hand_backs()] == ["resolved", "back"]
        # A handoff while that hand-back is pending opens a new case (the new unique index).
        fresh, created = store.open_case(new("back"))
        assert created
        assert store.with_people("back").id == fresh.id
    finally:
        store.engine.dispose()


def test_downgrading_gives_the_cases_their_old_meaning_back(empty: str) -> None:
    """A resolved case whose hand-back a new handoff cancelled was not pending any more:
    before 0003 that is `bot` (else the old unique index would not hold)."""
    migrate(empty, "0002")
    ids = fill(empty)
    migrate(empty)
    store = CaseStore(make_engine(empty))
    try:
        fresh, _ = store.open_case(new("back"))
    finally:
        store.engine.dispose()
    downgrade(empty, "0002")
    engine = make_engine(empty)
    try:
        with engine.connect() as connection:
            status = dict(connection.execute(sa.select(cases.c.id, cases.c.status)).all())
            tables = sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()
    assert "handoff_ownership" not in tables
    assert status[ids["back"][1]] == "bot"
    assert status[fresh.id] == "queued"
    assert status[ids["resolved"][0]] == "resolved"  # still pending: still resolved
    migrate(empty)  # and up again
    assert records(empty)["back"].case_id == fresh.id


@pytest.mark.parametrize("url", ["sqlite:///handoff.db", "postgresql://nobody@127.0.0.1:1/none"])
def test_offline_mode_prints_the_ownership_migration_both_ways(url: str) -> None:
    """`alembic upgrade --sql` on either database: what a DBA reviews, without connecting."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    printed = io.StringIO()
    with redirect_stdout(printed):
        command.upgrade(config, "head", sql=True)
        command.downgrade(config, "0003:0002", sql=True)
    sql = printed.getvalue()
    assert "CREATE TABLE handoff_ownership" in sql
    assert "INSERT INTO handoff_ownership" in sql
    assert "CREATE UNIQUE INDEX uq_handoff_cases_unfinished" in sql
    assert "DROP TABLE handoff_ownership" in sql
