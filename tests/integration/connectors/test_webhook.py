"""What every channel's webhook shares (connectors/webhook.py), over a real socket."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

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


def test_a_broken_chunked_body_gets_a_400_and_no_error_in_the_log(
    app: ChannelApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Sanic read the broken body again after the answer and logged it as uncaught."""
    head = (
        "POST /webhooks/sandbox/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    assert exchange(app, head, [b"zz\r\n{}\r\n0\r\n\r\n"]) == b"HTTP/1.1 400 Bad Request"
    time.sleep(0.2)  # anything the server logs after answering
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_message_whose_client_hung_up_while_it_was_stored_still_reaches_the_bot(
    app: ChannelApp, hub: ChannelHub, caplog: pytest.LogCaptureFixture
) -> None:
    """The cancelled webhook cancelled the write (which ended SQLite's writer thread), or
    left the message stored but never handed to the dispatcher."""
    busy, release = threading.Event(), threading.Event()

    def slow(connection: Connection) -> None:
        busy.set()
        release.wait(10)

    writer = threading.Thread(target=hub.inbox.database.write, args=(slow,))
    writer.start()
    assert busy.wait(10)
    body = json.dumps({"conversation": "hangup1234", "message_id": "h-1", "text": "hola"})
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(
            (
                "POST /webhooks/sandbox/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
    time.sleep(0.5)  # the server sees the connection close while the message waits
    release.set()
    writer.join(10)
    (message,) = app.bot.wait_for(1)
    assert message.text == "hola"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


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
