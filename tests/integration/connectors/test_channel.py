"""What every channel's webhook shares (connectors/channel.py), over a real socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.core import ChannelHub
from connectors.media_store import LocalMediaStore
from connectors.sandbox import SandboxInput
from connectors.settings import MediaLimits
from connectors.storage import make_engine
from tests.support.channel_app import ChannelApp
from tests.support.databases import database_that_goes_down

LIMIT = 2048  # HILO_MEDIA_MAX_BYTES below; the sandbox allows 64 KiB of form around a file
CAP = LIMIT + 64 * 1024


@pytest.fixture
def app(hub: ChannelHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelApp]:
    monkeypatch.setenv("HILO_MEDIA_MAX_BYTES", str(LIMIT))
    served = ChannelApp([SandboxInput(hub=hub)])
    try:
        yield served
    finally:
        served.close()


def exchange(app: ChannelApp, head: str, body_parts: list[bytes]) -> bytes:
    """Sends a raw request; the status line of the answer, or b'' if none came in 10 s."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the rest was sent
        try:
            return sock.recv(200).split(b"\r\n", 1)[0]
        except TimeoutError:
            return b""


def test_a_declared_oversized_body_is_refused_before_it_is_read(app: ChannelApp) -> None:
    # 50 MB declared, 10 bytes sent: reading the body would wait for the rest forever.
    head = (
        "POST /webhooks/sandbox/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
    )
    assert exchange(app, head, [b'{"text": "']) == b"HTTP/1.1 413 Request Entity Too Large"


def test_a_chunked_body_is_cut_where_it_passes_the_cap(app: ChannelApp) -> None:
    head = (
        "POST /webhooks/sandbox/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 16384
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (CAP // len(chunk) + 2)  # never ended
    assert exchange(app, head, parts) == b"HTTP/1.1 413 Request Entity Too Large"


def test_with_the_database_down_the_webhook_answers_503_and_takes_the_retry(
    tmp_path: Path,
) -> None:
    """Nothing acknowledged that was not stored: the provider's retry gets it in later."""
    with database_that_goes_down("hilo_channels") as (url, outage):
        hub = ChannelHub(
            make_engine(url),
            media_store=LocalMediaStore(tmp_path / "media"),
            media_limits=MediaLimits(max_bytes=LIMIT),
        )
        served = ChannelApp([SandboxInput(hub=hub)])
        try:
            body = {"conversation": "outage1234", "message_id": "m1", "text": "hola"}
            outage.down()
            refused = served.post("/webhooks/sandbox/webhook", json=body)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "5"
            outage.up()
            assert served.post("/webhooks/sandbox/webhook", json=body).status_code == 200
            (message,) = served.bot.wait_for(1)
            assert message.text == "hola"
        finally:
            served.close()
            hub.database.engine.dispose()
