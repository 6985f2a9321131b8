"""The customer's satisfaction on the desk's case card, in a real browser.

The real Hilo (trained model, action server, Rasa server with Twilio's WhatsApp faked on
127.0.0.1 and the handoff plugin, the desk) on SQLite files. A customer asks for a person; a
supervisor resolves the case back to the bot; the customer answers the survey with "4" and a
comment. The case card shows the score and the comment, as text. No page logs an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.desk_browser import TIMEOUT, ConsoleErrors, log_in
from tests.support.polling import eventually
from tests.support.servers import HiloProcesses
from tests.support.twilio_whatsapp import CREDENTIALS as TWILIO_CREDENTIALS
from tests.support.twilio_whatsapp import TwilioWhatsApp

pytestmark = pytest.mark.model

PHONE = "+5215577003344"
COMMENT = "me <b>ayudaron</b> muy rápido, gracias a la señorita"  # markup shown as text


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
        processes.desk_user("ines", "supervisor", "Inés")
        yield processes, whatsapp
    finally:
        processes.stop()
        whatsapp.close()


def answered_case(hilo: HiloProcesses, whatsapp: TwilioWhatsApp) -> int:
    whatsapp.send(hilo.url, PHONE, "quiero hablar con una persona")
    desk = hilo.desk_login("ines")
    try:
        case = eventually(lambda: (desk.get("/api/cases").json()["cases"] or [None])[0], "a case")
        case_id = int(case["id"])
        assert desk.post(f"/api/cases/{case_id}/claim").status_code == 200
        resolved = desk.post(f"/api/cases/{case_id}/resolve", json={"return_to_bot": True})
        assert resolved.status_code == 200
        eventually(
            lambda: any(t.startswith("¿Cómo te atendió") for t in whatsapp.replies_to(PHONE, 1)),
            "the survey",
        )
        whatsapp.send(hilo.url, PHONE, "4")
        eventually(lambda: desk.get(f"/api/cases/{case_id}").json()["csat"]["score"], "a score")
        whatsapp.send(hilo.url, PHONE, COMMENT)
        eventually(lambda: desk.get(f"/api/cases/{case_id}").json()["csat"]["comment"], "a comment")
    finally:
        desk.close()
    return case_id


def test_the_case_card_shows_the_score_and_the_comment(browser, hilo) -> None:
    processes, whatsapp = hilo
    case_id = answered_case(processes, whatsapp)
    console = ConsoleErrors()
    page = log_in(browser, processes, "ines", console, live=True)
    page.evaluate(f"window.location.hash = '#case={case_id}'")
    card = page.get_by_test_id("case-card")
    score = card.get_by_test_id("case-csat")
    score.wait_for(timeout=TIMEOUT)
    assert score.inner_text().strip() == "⭐⭐⭐⭐ 4/5"
    assert card.get_by_test_id("case-csat-comment").inner_text().strip() == COMMENT
    assert card.get_by_text("Satisfacción").count() == 1
    assert console.errors == []
