"""The one engine and migration helper of the store's and the handoff's databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hilo.database import database_url, make_engine, reader


def test_the_first_set_variable_wins_and_postgres_is_spelled_for_sqlalchemy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("A_URL", "")
    monkeypatch.setenv("B_URL", "postgres://hilo@db/hilo")
    assert database_url("A_URL", "B_URL", sqlite_file="x.db") == "postgresql://hilo@db/hilo"
    monkeypatch.delenv("B_URL")
    assert database_url("A_URL", "B_URL", sqlite_file="x.db").endswith("/var/x.db")


def _begins(engine: sa.engine.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.begin() as connection:
        connection.execute(sa.text("SELECT 1"))
    with reader(engine).begin() as connection:
        connection.execute(sa.text("SELECT 1"))
    return [statement for statement in seen if statement.startswith("BEGIN")]


def test_sqlite_writes_take_the_lock_at_their_start_only_where_asked(tmp_path: Path) -> None:
    immediate = make_engine(f"sqlite:///{tmp_path / 'a.db'}", immediate_writes=True)
    plain = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    assert _begins(immediate) == ["BEGIN IMMEDIATE", "BEGIN"]
    assert _begins(plain) == ["BEGIN", "BEGIN"]


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE a (id INTEGER PRIMARY KEY)"))
        connection.execute(sa.text("CREATE TABLE b (a_id INTEGER REFERENCES a(id))"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO b VALUES (7)"))
