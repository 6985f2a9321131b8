"""Every process's log, at DEBUG, names nobody: no message text, phone number, email or name.

The whole stack runs at `LOG_LEVEL=DEBUG` (Rasa with its structlog and coloredlogs, the action
server, the desk): a customer on WhatsApp gives their name, email and phone, describes a
problem, asks for a person; an agent opens the case in the desk (which reads the tracker over
Rasa's API, with the phone number in the URL), answers and hands back; the customer writes
again. Then every log is searched for what they said (hilo/log_privacy.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import HiloProcesses
from tests.support.twilio_whatsapp import CREDENTIALS, TwilioWhatsApp

pytestmark = pytest.mark.model

PHONE = "+5215512345678"  # the phone of order 10001 (actions/commerce/seed.py)
NAME = "Zacarias Quintanilla"
EMAIL = "zq.privado@ejemplo.mx"
SECRETS = (
    "5512345678",
    "55 1234 5678",
    "zq.privado",
    "Zacarias",
    "Quintanilla",
    "caja aplastada",
    "pelicano turquesa",
    "frasco de vidrio",
    "vuelo nocturno",
)


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path, whatsapp: TwilioWhatsApp) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(
        model=model_path,
        workdir=tmp_path,
        credentials=CREDENTIALS + "handoff.plugin.HandoffPlugin:\n",
        env={**whatsapp.env(), "LOG_LEVEL": "DEBUG"},
    )
    processes.start_actions()
    processes.start_rasa()
    processes.start_desk()
    processes.desk_user("sofia", "supervisor", "Sofía")  # the case waits for her to claim it
    yield processes
    processes.stop()


def open_case(desk: httpx.Client) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cases = desk.get("/api/cases").json()["cases"]
        if cases:
            return cases[0]
        time.sleep(0.2)
    raise AssertionError("no case was opened")


def back_with_the_bot(desk: httpx.Client, case_id: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if desk.get(f"/api/cases/{case_id}").json()["case"]["status"] == "bot":
            return
        time.sleep(0.2)
    raise AssertionError("the conversation did not go back to the bot")


def test_no_log_line_carries_what_the_customer_or_the_agent_said(
    hilo: HiloProcesses, whatsapp: TwilioWhatsApp
) -> None:
    whatsapp.send(
        hilo.url,
        PHONE,
        f"hola soy {NAME}, mi correo es {EMAIL} y mi cel 55 1234 5678. "
        "el pedido 10001 llego con la caja aplastada y el frasco de vidrio roto",
        profile_name=NAME,
    )
    whatsapp.send(hilo.url, PHONE, "quiero hablar con una persona porfa")
    whatsapp.replies_to(PHONE, 2, timeout=60)
    desk = hilo.desk_login("sofia")
    case = open_case(desk)
    assert desk.post(f"/api/cases/{case['id']}/claim").status_code == 200
    assert desk.get(f"/api/cases/{case['id']}").status_code == 200
    sent = desk.post(
        f"/api/cases/{case['id']}/messages",
        json={"text": "Hola Zacarias, te mando otro frasco de vidrio en el vuelo nocturno"},
    )
    assert sent.status_code == 200
    resolved = desk.post(f"/api/cases/{case['id']}/resolve", json={"return_to_bot": True})
    assert resolved.status_code == 200
    back_with_the_bot(desk, case["id"])
    replies = len(whatsapp.replies_to(PHONE, 3, timeout=60))
    whatsapp.send(hilo.url, PHONE, "gracias! frase pelicano turquesa para probar")
    whatsapp.replies_to(PHONE, replies + 1, timeout=60)
    for process in (hilo.desk, hilo.rasa, hilo.actions):
        assert process is not None
        process.terminate()  # flush and close every log
        process.wait(timeout=30)

    logs = {
        "rasa": hilo.rasa_log.read_text(),
        **{name: (hilo.workdir / f"{name}.log").read_text() for name in ("actions", "desk")},
    }
    # The logs are there, at DEBUG: Rasa said what it did with each message, not what it was;
    # the desk logged the agent's reply and its own call to Rasa's API (httpcore, at DEBUG).
    # httpx's per-request INFO lines, which carried the conversation id (a phone) in the URL,
    # are off in every process (connectors/core.py, crm/delivery.py).
    assert "processor.message.parse [parse_data_entities, parse_data_intent" in logs["rasa"]
    assert "DEBUG    rasa_sdk.executor  - Received request to run" in logs["actions"]
    assert f"POST /api/cases/{case['id']}/messages 200" in logs["desk"]
    assert (
        "httpcore.http11 send_request_headers.started request=<Request [b'POST']>" in (logs["desk"])
    )
    assert "HTTP Request:" not in logs["desk"]
    for name, text in logs.items():
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), f"{name}.log carries {secret!r}"
