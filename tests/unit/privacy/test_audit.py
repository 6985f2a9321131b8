"""The privacy audit keeps who, when, why and how many, and masks contacts typed in the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from handoff.database import make_engine, migrate
from privacy import audit
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "audit") as url:
        migrate(url)
        made = make_engine(url)
        yield made
        made.dispose()


def test_rows_hold_counts_and_a_pseudonym_newest_first(engine: Engine) -> None:
    first = audit.record(
        engine,
        action="export",
        actor="desk:admin",
        reason="acceso de ana@example.com, tel. +52 55 1234 5678",
        subject_ref="a" * 32,
        counts={"channels": {"messages": 3}},
        at=100.0,
    )
    second = audit.record(
        engine, action="erase", actor="cli:root", reason="r", subject_ref="b" * 32, counts={}
    )
    newest, oldest = audit.entries(engine)
    assert (newest["id"], oldest["id"]) == (second, first)
    assert oldest["reason"] == "acceso de <email>, tel. <phone>"
    assert oldest["counts"] == {"channels": {"messages": 3}}
    assert oldest["at"] == 100.0
    assert audit.entries(engine, limit=1) == [newest]


def test_only_known_actions(engine: Engine) -> None:
    with pytest.raises(ValueError, match="action"):
        audit.record(engine, action="peek", actor="x", reason="y", subject_ref="z", counts={})
