"""`make run` starts a working Hilo: both servers, the REST channel, endpoints.yml as shipped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def running_hilo(root: Path, model_path: Path) -> Iterator[str]:
    """scripts/run.sh (what `make run` calls after setup and train) on free ports."""
    rasa_port, actions_port = free_port(), free_port()
    env = {**os.environ, "HILO_RASA_PORT": str(rasa_port), "HILO_ACTIONS_PORT": str(actions_port)}
    process = subprocess.Popen(  # noqa: S603
        ["/bin/bash", str(root / "scripts" / "run.sh")],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{rasa_port}/", process, timeout=180)
        yield f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)


def say(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return list(json.load(response))


def test_the_running_bot_answers_in_both_languages_with_store_facts(running_hilo: str) -> None:
    sender = f"run-{uuid.uuid4().hex[:8]}"
    assert "Lumen" in say(running_hilo, sender, "hola")[0]["text"]
    english = say(running_hilo, sender, "how much is shipping?")[0]["text"]
    assert "Standard shipping costs" in english
    assert "{" not in english
    handoff = say(running_hilo, sender, "quiero hablar con una persona")[0]["text"]
    assert handoff.startswith("Te comunico con una persona")


def test_the_running_bot_looks_up_a_demo_order_after_verification(running_hilo: str) -> None:
    sender = f"run-{uuid.uuid4().hex[:8]}"
    asked = say(running_hilo, sender, "donde esta mi pedido 10001?")[0]["text"]
    assert "10001" in asked
    assert "correo" in asked
    answer = "\n".join(m["text"] for m in say(running_hilo, sender, "ana@example.com"))
    assert "Estafeta" in answer
    assert "EST123456789MX" in answer


def test_an_invoice_link_serves_the_pdf(running_hilo: str) -> None:
    sender = f"run-{uuid.uuid4().hex[:8]}"
    say(running_hilo, sender, "necesito la factura del pedido 10001")
    messages = say(running_hilo, sender, "ana@example.com")
    document = next(m["custom"]["document"] for m in messages if "custom" in m)
    assert document["url"] in messages[0]["text"]
    with urllib.request.urlopen(document["url"], timeout=30) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read().startswith(b"%PDF")
    missing = document["url"].rsplit("/", 1)[0] + "/" + "x" * 32 + ".pdf"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(missing, timeout=30)
    assert error.value.code == 404


def test_the_sandbox_page_chats_with_the_running_bot(running_hilo: str) -> None:
    base = running_hilo.replace("/webhooks/rest/webhook", "/webhooks/sandbox")
    with urllib.request.urlopen(f"{base}/", timeout=30) as page:
        assert "Hilo" in page.read().decode()
    chat = uuid.uuid4().hex[:12]
    body = json.dumps({"conversation": chat, "message_id": "m1", "text": "hola"}).encode()
    request = urllib.request.Request(
        f"{base}/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    deadline = time.monotonic() + 30
    replies: list[dict] = []
    while time.monotonic() < deadline and not replies:
        with urllib.request.urlopen(f"{base}/history?conversation={chat}", timeout=30) as reply:
            replies = json.load(reply)["bot"]
        time.sleep(0.2)
    assert "Lumen" in replies[0]["text"]
