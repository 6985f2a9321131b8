"""The way back to the bot runs in the Rasa server: no message falls between desk and bot.

The whole stack (the Rasa server with the sandbox and the handoff plugin, the action server,
the desk): a customer asks for a person, an agent resolves the case in the desk, and

- the customer writes right after "resolve" (well within 100 ms): the bot answers. Before,
  the bot was still paused until the desk's next poll and the message got no reply at all;
- the desk is killed right after "resolve": the conversation still goes back to the bot, and
  the customer's next message is answered.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from handoff.texts import csat_question
from tests.support.servers import HiloProcesses

pytestmark = pytest.mark.model

CREDENTIALS = "connectors.sandbox.SandboxInput:\nhandoff.plugin.HandoffPlugin:\n"
QUESTION = "cuanto cuesta el envio?"


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(model=model_path, workdir=tmp_path, credentials=CREDENTIALS)
    processes.start_actions()
    processes.start_rasa()
    processes.start_desk()
    processes.desk_user("sofia", "supervisor", "Sofía")  # the case waits for her to claim it
    yield processes
    processes.stop()


class Customer:
    """One sandbox conversation."""

    def __init__(self, hilo: HiloProcesses) -> None:
        self.hilo = hilo
        self.chat = uuid.uuid4().hex[:12]
        self.conversation = f"sandbox:{self.chat}"
        self.sent = 0

    def says(self, text: str) -> None:
        self.sent += 1
        reply = httpx.post(
            f"{self.hilo.url}/webhooks/sandbox/webhook",
            json={"conversation": self.chat, "message_id": str(self.sent), "text": text},
            timeout=10,
        )
        assert reply.status_code == 200

    def replies(self) -> list[tuple[str, str, str]]:
        """(source, status, text) of everything sent to the customer, in order.

        Without the satisfaction survey the hand-back asks (handoff/csat.py, tested there).
        """
        with sqlite3.connect(self.hilo.channels_db) as connection:
            rows = connection.execute(
                "SELECT source, status, body FROM channel_outbound WHERE conversation_id = ?"
                " ORDER BY id",
                (self.conversation,),
            ).fetchall()
        replies = [
            (source, status, json.loads(body).get("text") or "") for source, status, body in rows
        ]
        return [r for r in replies if not r[2].startswith(csat_question("es"))]

    def wait_for(self, count: int, timeout: float = 60) -> list[tuple[str, str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = [r for r in self.replies() if r[1] != "failed"]
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        raise AssertionError(f"expected {count} replies, got {self.replies()}")


def handed_to_a_person(hilo: HiloProcesses) -> tuple[Customer, httpx.Client, int]:
    customer = Customer(hilo)
    customer.says("quiero hablar con una persona")
    customer.wait_for(1)
    desk = httpx.Client(base_url=hilo.desk_url, timeout=30)
    login = desk.post("/api/auth/login", json={"username": "sofia", "password": "password-123"})
    desk.headers["Authorization"] = f"Bearer {login.json()['token']}"
    deadline = time.monotonic() + 30
    while not (cases := desk.get("/api/cases").json()["cases"]):
        assert time.monotonic() < deadline, "no case was opened"
        time.sleep(0.1)
    case_id = cases[0]["id"]
    assert desk.post(f"/api/cases/{case_id}/claim").status_code == 200
    return customer, desk, case_id


def resolve(desk: httpx.Client, case_id: int) -> None:
    resolved = desk.post(f"/api/cases/{case_id}/resolve", json={"return_to_bot": True})
    assert resolved.status_code == 200


def test_a_message_right_after_resolve_is_answered_by_the_bot(hilo: HiloProcesses) -> None:
    customer, desk, case_id = handed_to_a_person(hilo)
    before = len(customer.wait_for(1))
    resolve(desk, case_id)
    customer.says(QUESTION)  # a few milliseconds after the resolve answered
    replies = customer.wait_for(before + 1, timeout=30)
    source, _, text = replies[before]
    assert source == "bot"
    assert "envío" in text.lower() or "envio" in text.lower()
    assert desk.get(f"/api/cases/{case_id}").json()["case"]["status"] == "bot"


def test_the_bot_takes_back_a_resolved_case_with_no_desk_running(hilo: HiloProcesses) -> None:
    customer, desk, case_id = handed_to_a_person(hilo)
    before = len(customer.wait_for(1))
    resolve(desk, case_id)
    assert hilo.desk is not None
    hilo.desk.send_signal(signal.SIGKILL)  # at once: no poll of the desk can do it
    hilo.desk.wait(timeout=30)
    time.sleep(1.0)
    with sqlite3.connect(hilo.workdir / "commerce.db") as connection:
        (status,) = connection.execute(
            "SELECT status FROM handoff_cases WHERE id = ?", (case_id,)
        ).fetchone()
    assert status == "bot"  # the Rasa server's sweep handed it back
    customer.says(QUESTION)
    source, _, text = customer.wait_for(before + 1, timeout=30)[before]
    assert source == "bot"
    assert "envío" in text.lower() or "envio" in text.lower()
