"""The desk's privacy dialog in a real browser: an admin exports a person's data, then erases it.

The real Hilo runs (trained model, action server, Rasa server with Twilio's WhatsApp channel
faked on 127.0.0.1 and the handoff plugin, the desk) on SQLite files. A customer writes from
her phone a sentence nobody else writes and asks for a person. In the desk, an agent sees her
case but no privacy actions. An admin opens the case's *Datos personales*: the erase dialog
refuses without a reason or without the tick (and nothing is erased), the export downloads a
ZIP holding her sentence, and the erasure, with a reason and the tick, leaves no trace of the
sentence or the phone in any table of the channels, handoff and tracker databases, and writes
the reason to the privacy audit. No page logs an error along the way.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.desk_browser import TIMEOUT, ConsoleErrors, log_in
from tests.support.polling import eventually
from tests.support.servers import HiloProcesses
from tests.support.twilio_whatsapp import CREDENTIALS as TWILIO_CREDENTIALS
from tests.support.twilio_whatsapp import TwilioWhatsApp

pytestmark = pytest.mark.model

PHONE = "+5215577001122"  # nobody in the demo store (actions/commerce/seed.py)
NAME = "Lucía Paredes"
SENTENCE = "mi iguana azul se llama Filomena"
TRACES = (SENTENCE, "Filomena", "5577001122")  # the phone in every spelling ends so
REASON = "Solicitud ARCO 17 (prueba)"
# The dialog's texts (handoff/desk/static/desk.js, Spanish: the desk's default language).
NEED_REASON = "Escribe el motivo."
NEED_CONFIRM = "Marca la casilla para confirmar."


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path) -> Iterator[tuple[HiloProcesses, TwilioWhatsApp]]:
    whatsapp = TwilioWhatsApp()
    processes = HiloProcesses(
        model=model_path,
        workdir=tmp_path,
        credentials=TWILIO_CREDENTIALS + "handoff.plugin.HandoffPlugin:\n",
        env=whatsapp.env(),
    )
    try:
        processes.start_actions()
        processes.start_rasa()
        processes.start_desk()
        processes.desk_user("ines", "admin", "Inés")
        processes.desk_user("anna", "agent", "Anna")  # the case waits in the queue
        yield processes, whatsapp
    finally:
        processes.stop()
        whatsapp.close()


def database_urls(hilo: HiloProcesses) -> dict[str, str]:
    """The stores an erasure must reach (the handoff's tables live beside the store's)."""
    return {
        "channels": f"sqlite:///{hilo.channels_db}",
        "handoff": hilo.commerce_url,
        "tracker": f"sqlite:///{hilo.tracker_db}",
    }


def every_row(url: str) -> dict[str, list[str]]:
    """Every row of every table of one database, as text, by table."""
    engine = sa.create_engine(url, future=True)
    found: dict[str, list[str]] = {}
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                # Table names from the database's own catalogue, not from input.
                rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()  # noqa: S608
                found[table] = [
                    json.dumps([str(value) for value in row], ensure_ascii=False) for row in rows
                ]
    finally:
        engine.dispose()
    return found


def tables_holding(hilo: HiloProcesses, trace: str) -> list[str]:
    """`store.table` for every table of the person's stores with a row that holds `trace`."""
    return [
        f"{store}.{table}"
        for store, url in database_urls(hilo).items()
        for table, rows in every_row(url).items()
        if any(trace.lower() in row.lower() for row in rows)
    ]


def seed_customer(hilo: HiloProcesses, whatsapp: TwilioWhatsApp) -> int:
    """She writes from WhatsApp and asks for a person; the id of her case."""
    whatsapp.send(hilo.url, PHONE, f"hola, {SENTENCE}", profile_name=NAME)
    whatsapp.replies_to(PHONE, 1)
    whatsapp.send(hilo.url, PHONE, "quiero hablar con una persona", profile_name=NAME)
    desk = hilo.desk_login("ines")
    try:
        case = eventually(lambda: (desk.get("/api/cases").json()["cases"] or [None])[0], "a case")
    finally:
        desk.close()
    eventually(lambda: turns_done(hilo), "every turn")
    return int(case["id"])


def turns_done(hilo: HiloProcesses) -> bool:
    """Every message she sent has had its turn."""
    inbound = every_row(database_urls(hilo)["channels"])["channel_inbound"]
    return bool(inbound) and not any('"pending"' in r or '"processing"' in r for r in inbound)


def open_case(page, case_id: int) -> None:
    page.locator(f'[data-testid="queue-item"][data-case-id="{case_id}"]').click(timeout=TIMEOUT)
    page.get_by_test_id("thread").get_by_text(SENTENCE).wait_for(timeout=TIMEOUT)
    page.get_by_test_id("case-card").get_by_test_id("audit").wait_for(timeout=TIMEOUT)


def refused(page, message: str) -> None:
    """The dialog shows `message` and stays open."""
    from playwright.sync_api import expect

    error = page.get_by_test_id("dialog-error")
    expect(error).to_be_visible(timeout=TIMEOUT)
    expect(error).to_have_text(message, timeout=TIMEOUT)
    expect(page.get_by_test_id("dialog")).to_be_visible()


def test_an_admin_exports_then_erases_a_person_from_the_desk(browser, hilo, tmp_path) -> None:
    processes, whatsapp = hilo
    case_id = seed_customer(processes, whatsapp)
    for trace in TRACES:
        assert tables_holding(processes, trace), f"{trace!r} is in the databases to begin with"
    console = ConsoleErrors()
    privacy_requests: list[str] = []

    # An agent sees the case and its card, but no privacy actions; the API refuses her too.
    agent = log_in(browser, processes, "anna", console, live=True)
    open_case(agent, case_id)
    assert agent.get_by_test_id("card-privacy").count() == 0
    assert agent.get_by_test_id("privacy-export").count() == 0
    assert agent.get_by_test_id("privacy-erase").count() == 0
    assert agent.get_by_text("Datos personales").count() == 0
    desk = processes.desk_login("anna")
    try:
        body = {"phone": PHONE, "reason": REASON, "confirm": True}
        assert desk.post("/api/privacy/erase", json=body).status_code == 403
        assert desk.post("/api/privacy/export", json=body).status_code == 403
    finally:
        desk.close()
    agent.context.close()

    admin = log_in(browser, processes, "ines", console, live=True)
    admin.on(
        "request",
        lambda request: (
            privacy_requests.append(request.url) if "/api/privacy/" in request.url else None
        ),
    )
    open_case(admin, case_id)
    section = admin.get_by_test_id("card-privacy")
    section.get_by_text("Datos personales").wait_for(timeout=TIMEOUT)
    dialog = admin.get_by_test_id("dialog")

    # Erase without a reason, then without the tick: refused in the page, nothing sent.
    section.get_by_test_id("privacy-erase").click()
    dialog.wait_for(state="visible", timeout=TIMEOUT)
    confirm = dialog.get_by_test_id("dialog-confirm")
    assert confirm.inner_text().strip() == "Borrar definitivamente"
    confirm.click()
    refused(admin, NEED_REASON)
    dialog.get_by_test_id("privacy-confirm").check()
    dialog.get_by_test_id("privacy-reason").fill("   ")  # blanks are no reason
    confirm.click()
    refused(admin, NEED_REASON)
    dialog.get_by_test_id("privacy-confirm").uncheck()
    dialog.get_by_test_id("privacy-reason").fill(REASON)
    confirm.click()
    refused(admin, NEED_CONFIRM)
    dialog.get_by_test_id("dialog-cancel").click()
    dialog.wait_for(state="hidden", timeout=TIMEOUT)
    assert privacy_requests == []
    assert "channels.channel_inbound" in tables_holding(processes, SENTENCE)

    # Export: a ZIP downloads, with what she wrote.
    section.get_by_test_id("privacy-export").click()
    dialog.wait_for(state="visible", timeout=TIMEOUT)
    confirm.click()
    refused(admin, NEED_REASON)
    dialog.get_by_test_id("privacy-reason").fill(REASON)
    dialog.get_by_test_id("privacy-confirm").check()
    with admin.expect_download(timeout=TIMEOUT) as started:
        confirm.click()
    download = started.value
    assert re.fullmatch(r"hilo-[0-9a-f]{12}\.zip", download.suggested_filename)
    archive = tmp_path / "export.zip"
    download.save_as(archive)
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        exported = "\n".join(
            bundle.read(name).decode("utf-8") for name in names if name.endswith(".json")
        )
    assert {"subject.json", "messages.json", "cases.json", "README.txt"} <= set(names)
    assert SENTENCE in exported
    dialog.wait_for(state="hidden", timeout=TIMEOUT)
    admin.get_by_test_id("toast").get_by_text("Archivo descargado.").wait_for(timeout=TIMEOUT)
    assert tables_holding(processes, SENTENCE), "an export erases nothing"

    # Erase, with a reason and the tick: the page reports it, and she is gone.
    section.get_by_test_id("privacy-erase").click()
    dialog.wait_for(state="visible", timeout=TIMEOUT)
    dialog.get_by_test_id("privacy-reason").fill(REASON)
    dialog.get_by_test_id("privacy-confirm").check()
    confirm.click()
    dialog.wait_for(state="hidden", timeout=TIMEOUT)
    done = admin.get_by_test_id("toast").get_by_text(re.compile(r"Datos borrados: \d+ registros"))
    done.wait_for(timeout=TIMEOUT)
    assert int(re.search(r"\d+", done.inner_text()).group()) > 0
    # The card shows the anonymised case, which offers no more privacy actions.
    admin.get_by_test_id("card-privacy").wait_for(state="detached", timeout=TIMEOUT)
    assert privacy_requests == [
        f"{processes.desk_url}/api/privacy/export",
        f"{processes.desk_url}/api/privacy/erase",
    ]

    for trace in TRACES:
        assert tables_holding(processes, trace) == [], f"{trace!r} is still stored"
    audit = every_row(database_urls(processes)["handoff"])["handoff_privacy_audit"]
    assert any('"erase"' in row and REASON in row for row in audit), audit
    assert any('"export"' in row and REASON in row for row in audit), audit
    assert any('"desk:ines"' in row for row in audit), audit

    assert console.errors == []
