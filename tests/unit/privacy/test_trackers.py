"""Rasa's tracker table as privacy/trackers.py declares it (without Rasa), and where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from privacy import trackers


def test_the_declared_table_is_rasas() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    theirs = SQLTrackerStore.SQLEvent.__table__
    ours = trackers.events
    assert ours.name == theirs.name
    assert [c.name for c in ours.columns] == [c.name for c in theirs.columns]
    for column in theirs.columns:
        mine = ours.columns[column.name]
        assert type(mine.type) is type(column.type), column.name
        assert mine.nullable == column.nullable, column.name
        assert getattr(mine.type, "length", None) == getattr(column.type, "length", None)


def test_the_url_comes_from_the_same_variables_as_the_rasa_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: components.tracker_store.WindowedSQLTrackerStore\n"
        "  dialect: sqlite\n  db: var/tracker.db\n"
    )
    assert trackers.database_url(endpoints) == f"sqlite:///{tmp_path / 'var/tracker.db'}"
    assert trackers.database_url() == f"sqlite:///{trackers.REPO_ROOT / 'var/tracker.db'}"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.internal\n"
        "  port: 5433\n  db: rasa\n  username: hilo\n  password: p@ss\n"
    )
    assert trackers.database_url(endpoints) == "postgresql://hilo:p%40ss@db.internal:5433/rasa"
    endpoints.write_text("action_endpoint:\n  url: http://x\n")
    assert trackers.database_url(endpoints) is None  # in memory: nothing kept
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/shared")
    assert trackers.database_url(endpoints) == "postgresql://u@h/shared"
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////srv/tracker.db")
    assert trackers.database_url(endpoints) == "sqlite:////srv/tracker.db"


def test_export_keeps_each_slots_latest_value_and_erase_is_idempotent(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}", future=True)
    trackers.metadata.create_all(engine)
    rows = [
        ("a", "slot", {"event": "slot", "name": "city", "value": "CDMX"}),
        ("a", "slot", {"event": "slot", "name": "city", "value": "Monterrey"}),
        ("a", "slot", {"event": "slot", "name": "order_id", "value": "10001"}),
        ("a", "slot", {"event": "slot", "name": "order_id", "value": None}),
        ("a", "user", {"event": "user", "text": "hola", "timestamp": 1.0, "input_channel": "x"}),
        ("a", "bot", {"event": "bot", "text": "¡Hola!"}),
        ("b", "user", {"event": "user", "text": "otro", "timestamp": 2.0}),
    ]
    with engine.begin() as connection:
        for sender, kind, data in rows:
            connection.execute(
                trackers.events.insert().values(
                    sender_id=sender, type_name=kind, data=json.dumps(data)
                )
            )
    (exported,) = trackers.export(engine, ["a"])
    assert exported["slots"] == {"city": "Monterrey"}
    assert [m["text"] for m in exported["messages"]] == ["hola"]
    assert trackers.sender_ids(engine, conversation_ids=["a", "zzz"]) == {"a"}
    assert trackers.erase(engine, ["a"]) == {"events": 6}
    assert trackers.erase(engine, ["a"]) == {"events": 0}
    assert trackers.export(engine, ["b"])[0]["messages"][0]["text"] == "otro"
    engine.dispose()
