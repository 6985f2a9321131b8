"""A webhook intake as its own process: it verifies, stores and acknowledges, and takes no turn.

The real `python -m connectors.intake` on PostgreSQL, with webhooks signed as Twilio signs
them. The replicas' side (turns started by PostgreSQL's notification) is covered with the
model in tests/integration/connectors/test_replicas.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ROOT, free_port, wait_for
from tests.support.databases import postgres_schema
from tests.support.twilio_whatsapp import CREDENTIALS, TwilioWhatsApp


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[str, str, TwilioWhatsApp]]:
    """(the intake's URL, its database URL, the customer's side of Twilio)."""
    twilio = TwilioWhatsApp()
    with postgres_schema("hilo_intake_test") as url:
        credentials = tmp_path / "credentials.yml"
        credentials.write_text(CREDENTIALS + "connectors.sandbox.SandboxInput:\n")
        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "HILO_VAR_DIR": str(tmp_path / "var"),
            **twilio.env(),
        }
        log = (tmp_path / "intake.log").open("a")
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "connectors.intake",
                "--port",
                str(port),
                "--credentials",
                str(credentials),
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/", process, timeout=60)
            yield f"http://127.0.0.1:{port}", url, twilio
        finally:
            process.terminate()
            process.wait(timeout=30)
            twilio.close()
        assert process.returncode == 0, (tmp_path / "intake.log").read_text()[-2000:]


def inbox(url: str) -> list[sa.engine.Row]:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT provider_id, status, attempts FROM channel_inbound ORDER BY id")
            ).all()
    finally:
        engine.dispose()


def test_it_stores_and_acknowledges_and_leaves_the_turn_to_the_replicas(
    intake: tuple[str, str, TwilioWhatsApp],
) -> None:
    base, url, twilio = intake
    assert httpx.get(f"{base}/").json() == {"status": "ok", "role": "intake"}
    sid = f"SM{uuid.uuid4().hex}"
    twilio.send(base, "+5215500000001", "hola, donde esta mi pedido?", message_sid=sid)
    twilio.send(base, "+5215500000001", "hola, donde esta mi pedido?", message_sid=sid)
    time.sleep(1.0)  # had it taken a turn, the row would have moved by now
    assert [tuple(row) for row in inbox(url)] == [(sid, "pending", 0)]  # once; no turn
    assert twilio.api.calls("POST", r".*/Messages\.json") == []  # and nothing sent


def test_it_refuses_what_the_replicas_would_refuse(
    intake: tuple[str, str, TwilioWhatsApp],
) -> None:
    base, url, _twilio = intake
    forged = httpx.post(
        f"{base}/webhooks/twilio/webhook",
        content="MessageSid=SM1&From=whatsapp%3A%2B5215500000002&Body=hola",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
        },
    )
    assert forged.status_code == 403
    huge = httpx.post(
        f"{base}/webhooks/twilio/webhook",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    # The sandbox is not an intake's: its page streams replies from its own process.
    assert httpx.post(f"{base}/webhooks/sandbox/webhook", json={}).status_code == 404
    assert inbox(url) == []
