"""`make bench-facts` times the turns it says it times: each kind lands in the record as meant."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bench.facts import run
from handoff.database import make_engine, migrate
from handoff.facts import Facts


def test_each_kind_of_turn_is_recorded_as_its_name_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    engine = make_engine(url)
    facts = Facts(engine, gap=24 * 3600.0)
    timings = run(facts, turns=6, conversations=3)
    assert set(timings) == {"answered", "new contact after 24 h", "not understood"}
    assert all(t["p50_ms"] > 0 for t in timings.values())
    with engine.connect() as connection:
        contacts = connection.execute(sa.text("SELECT count(*) FROM handoff_contacts")).scalar()
        fallbacks = connection.execute(
            sa.text("SELECT count(*) FROM handoff_facts WHERE fallback")
        ).scalar()
    # 3 from the history (the answered turns go on with them), 6 after 24 h of quiet, and 3
    # when the not-understood turns come a month later.
    assert contacts == 3 + 6 + 3
    assert fallbacks == 6
    assert facts.lost == 0
    engine.dispose()
