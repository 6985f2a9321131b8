"""Fail-safe: when the action server is down, the customer is handed to a person.

Rasa swallows action-server errors and the turn ends in silence; the channels core notices
the bot said nothing on a conversation it owns and the handoff plugin parks it with reason
`bot_error`, without the action server, and tells the customer when a person will answer.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from handoff.database import make_engine
from handoff.models import contacts, facts
from handoff.store import CaseStore
from tests.support.servers import HiloProcesses

pytestmark = pytest.mark.model

CREDENTIALS = "connectors.sandbox.SandboxInput:\nhandoff.plugin.HandoffPlugin:\n"


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(model=model_path, workdir=tmp_path, credentials=CREDENTIALS)
    processes.start_actions()
    processes.start_rasa()
    yield processes
    processes.stop()


def replies(hilo: HiloProcesses, conversation: str) -> list[tuple[str, str]]:
    with sqlite3.connect(hilo.channels_db) as connection:
        rows = connection.execute(
            "SELECT source, body FROM channel_outbound WHERE conversation_id = ? ORDER BY id",
            (conversation,),
        ).fetchall()
    return [(source, json.loads(body)["text"]) for source, body in rows]


def test_the_bot_failing_hands_the_conversation_to_a_person(hilo: HiloProcesses) -> None:
    assert hilo.actions is not None
    hilo.actions.terminate()  # the action server is down
    hilo.actions.wait(timeout=30)
    chat = uuid.uuid4().hex[:12]
    conversation = f"sandbox:{chat}"
    httpx.post(
        f"{hilo.url}/webhooks/sandbox/webhook",
        json={"conversation": chat, "message_id": "1", "text": "donde esta mi pedido 10001"},
        timeout=10,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        source == "system" for source, _ in replies(hilo, conversation)
    ):
        time.sleep(0.2)
    notices = [text for source, text in replies(hilo, conversation) if source == "system"]
    assert "Te comunico con una persona de nuestro equipo: te responde " in notices[0]
    case = CaseStore(make_engine(f"sqlite:///{hilo.workdir / 'commerce.db'}")).with_people(
        conversation
    )
    assert case is not None
    assert case.reason.value == "bot_error"
    assert case.priority.value == "high"
    # The conversation is paused: the next message gets no reply at all, and no new case.
    before = replies(hilo, conversation)
    httpx.post(
        f"{hilo.url}/webhooks/sandbox/webhook",
        json={"conversation": chat, "message_id": "2", "text": "hola?"},
        timeout=10,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _processed(hilo, 2):
        time.sleep(0.2)
    assert replies(hilo, conversation) == before
    assert (
        CaseStore(make_engine(f"sqlite:///{hilo.workdir / 'commerce.db'}")).with_people(
            conversation
        )
        == case
    )
    # The reports' record (handoff/facts.py), written from the Rasa server's saved turns, saw
    # both messages, without their text, as one contact that needed a person.
    with make_engine(f"sqlite:///{hilo.workdir / 'commerce.db'}").connect() as connection:
        said = connection.execute(
            sa.select(facts).where(facts.c.kind == "message_in").order_by(facts.c.id)
        ).all()
        (contact,) = connection.execute(sa.select(contacts)).all()
    assert [row.channel for row in said] == ["sandbox", "sandbox"]
    assert said[0].intent
    assert said[0].confidence > 0
    assert "pedido" not in str([row._asdict() for row in said])
    assert (contact.case_id, contact.messages_in) == (case.id, 2)


def _processed(hilo: HiloProcesses, count: int) -> bool:
    with sqlite3.connect(hilo.channels_db) as connection:
        done = connection.execute(
            "SELECT count(*) FROM channel_inbound WHERE status = 'done'"
        ).fetchone()[0]
    return int(done) >= count
