"""The designer's loop in a real browser: a designer reviews what the bot did not understand.

A real desk (`hilo desk`) on a SQLite file where the record (handoff/facts.py) kept, as the
Rasa server keeps them for each turn, messages that fell back (three near-duplicates from
three customers), one that scored low, and one the bot understood. A designer opens the
training page, sees the groups largest first with their counts, reasons and the suggested
label preselected, accepts one group and rejects another; both leave the list and the API
says so. An agent sees no entry and the API refuses her. No console errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.auth import Accounts
from handoff.database import make_engine, migrate
from handoff.facts import Facts
from tests.support.desk_browser import TIMEOUT, ConsoleErrors, log_in
from tests.support.servers import DESK_PASSWORD, HiloProcesses


def said(at: float, text: str, intent: str, confidence: float, second: str) -> dict:
    ranking = [{"name": intent, "confidence": confidence}, {"name": second, "confidence": 0.2}]
    parse = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking}
    return {"event": "user", "timestamp": at, "text": text, "parse_data": parse}


def seed(url: str) -> None:
    engine = make_engine(url)
    accounts = Accounts(engine)
    accounts.create("dora", DESK_PASSWORD, role="designer", display_name="Dora")
    accounts.create("anna", DESK_PASSWORD, role="agent", display_name="Anna")
    record = Facts(engine)
    for n, text in enumerate(
        ("ke onda mi paquete", "Ke onda mi paqueteee??", "ke onda mi paquete")
    ):
        record.record_events(
            f"whatsapp:+5215500000{n}",
            [said(1000.0 + n, text, "nlu_fallback", 0.2, "order_status")],
        )
    record.record_events("telegram:7", [said(2000.0, "eso mero", "affirm", 0.4, "greet")])
    record.record_events("telegram:8", [said(3000.0, "hola", "greet", 0.99, "affirm")])
    engine.dispose()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(
        model=tmp_path / "no-model",
        workdir=tmp_path,
        credentials="",
        secret_key=os.environ["HILO_SECRET_KEY"],
    )
    migrate(processes.commerce_url)
    seed(processes.commerce_url)
    try:
        processes.start_desk()
        yield processes
    finally:
        processes.stop()


def test_a_designer_accepts_and_rejects_groups_and_an_agent_cannot(browser, desk) -> None:
    console = ConsoleErrors()
    agent = log_in(browser, desk, "anna", console)
    assert not agent.get_by_test_id("nav-designer").is_visible()
    client = desk.desk_login("anna")
    assert client.get("/api/nlu/candidates").status_code == 403

    page = log_in(browser, desk, "dora", console)
    page.get_by_test_id("nav-designer").click()
    page.locator('[data-testid="designer"][data-state="ready"]').wait_for(timeout=TIMEOUT)
    groups = page.get_by_test_id("designer-group")
    assert groups.count() == 2
    parcel = groups.nth(0)
    assert parcel.get_attribute("data-count") == "3"  # "paqueteee??" is the same words
    assert "no lo entendió" in parcel.inner_text()
    assert parcel.get_by_test_id("designer-label").input_value() == "order_status"

    parcel.get_by_test_id("designer-accept").click()
    page.get_by_test_id("designer-status").filter(has_text="Aceptado como order_status").wait_for(
        timeout=TIMEOUT
    )
    page.locator('[data-testid="designer"][data-state="ready"]').wait_for(timeout=TIMEOUT)
    assert page.get_by_test_id("designer-group").count() == 1
    page.get_by_test_id("designer-group").first.get_by_test_id("designer-reject").click()
    page.get_by_test_id("designer-status").filter(has_text="Rechazado").wait_for(timeout=TIMEOUT)

    designer = desk.desk_login("dora")
    accepted = designer.get("/api/nlu/candidates", params={"status": "accepted"}).json()
    assert [(g["label"], g["count"]) for g in accepted["groups"]] == [("order_status", 3)]
    rejected = designer.get("/api/nlu/candidates", params={"status": "rejected"}).json()
    assert [g["count"] for g in rejected["groups"]] == [1]
    assert designer.get("/api/nlu/candidates").json()["groups"] == []
    assert console.errors == []
