"""Nothing accepted is lost: a Rasa server killed with -9 after acknowledging messages.

The real Hilo (trained model, action server, the sandbox channel through the shared core) is
made to hang mid-turn by stopping the action server, receives messages it acknowledges, and
is killed. A new server on the same databases answers every one of them exactly once.
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

from tests.support.servers import HiloProcesses

pytestmark = pytest.mark.model

CREDENTIALS = "rest:\nconnectors.sandbox.SandboxInput:\nconnectors.media.MediaInput:\n"


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(model=model_path, workdir=tmp_path, credentials=CREDENTIALS)
    processes.start_actions()
    processes.start_rasa()
    yield processes
    processes.stop()


def outbound(db: Path, conversation: str) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT reply_to, seq, body FROM channel_outbound WHERE conversation_id = ?",
            (conversation,),
        ).fetchall()
    return [(reply_to, seq, json.loads(body)["text"]) for reply_to, seq, body in rows]


def user_events(db: Path, conversation: str) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
            (conversation,),
        ).fetchall()
    return [json.loads(data)["message_id"] for (data,) in rows]


def test_messages_acknowledged_before_a_kill_are_answered_once_after_restart(
    hilo: HiloProcesses,
) -> None:
    chats = [uuid.uuid4().hex[:12] for _ in range(3)]
    texts = ["hola", "cuanto cuesta el envio?", "gracias"]
    hilo.pause_actions()  # every turn now hangs on its first action-server call
    for chat in chats:
        for index, text in enumerate(texts):
            body = {"conversation": chat, "message_id": f"{chat}-{index}", "text": text}
            reply = httpx.post(f"{hilo.url}/webhooks/sandbox/webhook", json=body, timeout=5)
            assert reply.status_code == 200
    time.sleep(0.5)
    assert all(outbound(hilo.channels_db, f"sandbox:{chat}") == [] for chat in chats)
    hilo.kill_rasa()
    hilo.resume_actions()
    hilo.start_rasa()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(len(user_events(hilo.tracker_db, f"sandbox:{c}")) == 3 for c in chats):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # replies of the last turns are recorded right after their turn
    for chat in chats:
        conversation = f"sandbox:{chat}"
        assert user_events(hilo.tracker_db, conversation) == [
            f"{chat}:{chat}-{i}" for i in range(3)
        ]
        replies = outbound(hilo.channels_db, conversation)
        assert len({(reply_to, seq) for reply_to, seq, _ in replies}) == len(replies)
        answered = {reply_to for reply_to, _, _ in replies}
        assert len(answered) == 3  # every message got its answer
        assert any("Lumen" in text for _, _, text in replies)  # the greeting
        assert any("$99" in text or "envío" in text for _, _, text in replies)
