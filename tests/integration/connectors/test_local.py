"""Development-only channels answer this machine only, and are not mounted in production.

The security review posted as `whatsapp:+52…` to the REST channel and the sandbox from another
machine and read and cancelled a stranger's orders. These tests send the same requests as a
remote caller would arrive (through a proxy or tunnel, which is how a laptop is reached) and
as a local developer, on real servers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.core import ChannelHub
from connectors.local import LocalRestInput
from connectors.media import MediaInput
from connectors.media_store import LocalMediaStore
from connectors.sandbox import SandboxInput
from tests.support.channel_app import ChannelApp

REMOTE = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"X-Real-IP": "203.0.113.7"},
]


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch, hub: ChannelHub) -> Iterator[ChannelApp]:
    monkeypatch.delenv("HILO_ENV", raising=False)
    served = ChannelApp([SandboxInput(hub=hub), LocalRestInput()])
    yield served
    served.close()


def rest_message() -> dict[str, str]:
    return {"sender": "whatsapp:+5215512345678", "message": "donde esta mi pedido 10001"}


def sandbox_message() -> dict[str, str]:
    return {"conversation": uuid.uuid4().hex[:16], "message_id": "m1", "text": "hola"}


def test_a_local_developer_reaches_rest_and_the_sandbox(development: ChannelApp) -> None:
    rest = development.post("/webhooks/rest/webhook", json=rest_message())
    assert rest.status_code == 200
    assert rest.json() == [
        {"recipient_id": rest_message()["sender"], "text": "echo: donde esta mi pedido 10001"}
    ]
    assert development.post("/webhooks/sandbox/webhook", json=sandbox_message()).status_code == 200
    assert development.get("/webhooks/sandbox/").status_code == 200


@pytest.mark.parametrize("headers", REMOTE)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/webhooks/rest/webhook", rest_message()),
        ("POST", "/webhooks/sandbox/webhook", sandbox_message()),
        ("GET", "/webhooks/sandbox/", None),
        ("GET", "/webhooks/sandbox/history?conversation=abcdefgh12", None),
        ("GET", "/webhooks/sandbox/events?conversation=abcdefgh12", None),
    ],
)
def test_a_forwarded_request_is_refused(
    development: ChannelApp, headers: dict[str, str], method: str, path: str, body: dict | None
) -> None:
    answer = development.request(method, path, json=body, headers=headers)
    assert answer.status_code == 403
    assert "development" in answer.json()["error"]
    assert development.bot.received == []  # nothing reached the bot


def test_production_mounts_neither(
    monkeypatch: pytest.MonkeyPatch, hub: ChannelHub, tmp_path: Path
) -> None:
    monkeypatch.setenv("HILO_ENV", "production")
    # The media server keeps the route table from being empty, as the Rasa server's never is.
    media = MediaInput(LocalMediaStore(tmp_path))
    served = ChannelApp([SandboxInput(hub=hub), LocalRestInput(), media])
    try:
        for method, path, body in [
            ("POST", "/webhooks/rest/webhook", rest_message()),
            ("GET", "/webhooks/rest/", None),
            ("POST", "/webhooks/sandbox/webhook", sandbox_message()),
            ("GET", "/webhooks/sandbox/", None),
        ]:
            assert served.request(method, path, json=body).status_code == 404, path
        assert served.bot.received == []
    finally:
        served.close()
