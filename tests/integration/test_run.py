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
    rasa_port, actions_port, desk_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "HILO_RASA_PORT": str(rasa_port),
        "HILO_ACTIONS_PORT": str(actions_port),
        "HILO_DESK_PORT": str(desk_port),
        "HILO_OPEN_BROWSER": "0",
    }
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
        wait_for(f"http://127.0.0.1:{desk_port}/api/openapi.json", process, timeout=60)
        os.environ["HILO_TEST_DESK_URL"] = f"http://127.0.0.1:{desk_port}"
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


def test_the_desk_runs_beside_the_bot_and_shows_a_handoff(running_hilo: str, root: Path) -> None:
    desk = os.environ["HILO_TEST_DESK_URL"]
    with urllib.request.urlopen(f"{desk}/", timeout=30) as page:
        assert "text/html" in page.headers["Content-Type"]
    sender = f"run-{uuid.uuid4().hex[:8]}"
    say(running_hilo, sender, "quiero hablar con una persona")
    from handoff.auth import Accounts
    from handoff.database import make_engine

    accounts = Accounts(make_engine(f"sqlite:///{root / 'var' / 'handoff.db'}"))
    if not any(agent.username == "run-test" for agent in accounts.all()):
        accounts.create("run-test", "password-123", role="supervisor")
    login = json.dumps({"username": "run-test", "password": "password-123"}).encode()
    request = urllib.request.Request(
        f"{desk}/api/auth/login", data=login, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        token = json.load(reply)["token"]
    listing = urllib.request.Request(
        f"{desk}/api/cases?status=all", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(listing, timeout=30) as reply:
        cases = json.load(reply)["cases"]
    assert any(case["conversation_id"] == sender for case in cases)
