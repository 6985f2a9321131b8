"""The sandbox channel through the whole core: inbox, dedupe, bot thread, outbound store."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from connectors.core import ChannelHub
from connectors.sandbox import SandboxInput
from tests.support.channel_app import ChannelApp, EchoBot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app(hub: ChannelHub) -> Iterator[ChannelApp]:
    served = ChannelApp([SandboxInput(hub=hub)])
    yield served
    served.close()


def conversation() -> str:
    return uuid.uuid4().hex[:16]


def wait_outbound(hub: ChannelHub, conversation_id: str, count: int) -> list:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = hub.outbox.conversation(conversation_id)
        if len(records) >= count:
            return records
        time.sleep(0.02)
    raise AssertionError(f"expected {count} outbound messages")


def test_a_message_is_answered_and_a_repeat_is_not_processed_twice(
    app: ChannelApp, hub: ChannelHub
) -> None:
    chat = conversation()
    body = {"conversation": chat, "message_id": "m-1", "text": "hola"}
    assert app.post("/webhooks/sandbox/webhook", json=body).status_code == 200
    assert app.post("/webhooks/sandbox/webhook", json=body).status_code == 200
    wait_outbound(hub, f"sandbox:{chat}", 1)
    time.sleep(0.3)
    (record,) = hub.outbox.conversation(f"sandbox:{chat}")
    assert record.text == "echo: hola"
    assert record.status.value == "sent"
    (message,) = app.bot.received
    assert message.sender_id == f"sandbox:{chat}"
    assert message.input_channel == "sandbox"
    assert message.message_id == f"{chat}:m-1"


def test_message_ids_are_the_pages_own_so_they_only_dedupe_within_a_conversation(
    app: ChannelApp,
) -> None:
    for chat in (conversation(), conversation()):
        body = {"conversation": chat, "message_id": "m-1", "text": chat}
        app.post("/webhooks/sandbox/webhook", json=body)
    assert len(app.bot.wait_for(2)) == 2


@contextmanager
def page_stream_after_uno(app: ChannelApp) -> Iterator[httpx.Response]:
    """A new conversation says "uno"; the page's event stream for it (10 s read timeout)."""
    chat = conversation()
    app.post(
        "/webhooks/sandbox/webhook", json={"conversation": chat, "message_id": "a", "text": "uno"}
    )
    with httpx.stream(
        "GET", f"{app.url}/webhooks/sandbox/events", params={"conversation": chat}, timeout=10
    ) as stream:
        yield stream


def test_the_page_streams_replies_as_server_sent_events(app: ChannelApp) -> None:
    with page_stream_after_uno(app) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                break
    assert event["text"] == "echo: uno"
    assert event["source"] == "bot"


def test_a_stopping_hub_ends_the_pages_stream(app: ChannelApp, hub: ChannelHub) -> None:
    """`make run` stopped with a sandbox tab open waited out Sanic's graceful shutdown (15 s):
    the page's stream never ends on its own."""
    with page_stream_after_uno(app) as stream:
        lines = stream.iter_lines()
        assert any(line.startswith("data: ") for line in lines)  # the reply: streaming
        hub.stop()
        # Ends when the server ends the stream; one that goes on sends nothing for 15 s
        # (KEEPALIVE_SECONDS), and the 10 s read timeout fails the test.
        rest = list(lines)
    assert not any(line.startswith("data: ") for line in rest)


def test_the_page_is_served_and_escapes_nothing_itself(app: ChannelApp) -> None:
    page = app.get("/webhooks/sandbox/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "innerHTML" not in page.text  # customer and bot text only ever go in as text
    assert "Content-Security-Policy" in page.headers


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"conversation": "short", "message_id": "x", "text": "hola"}, 400),
        ({"conversation": "abcdefgh12", "message_id": "x y", "text": "hola"}, 400),
        ({"conversation": "abcdefgh12", "message_id": "x", "text": "   "}, 400),
    ],
)
def test_bad_messages_get_a_clear_400(app: ChannelApp, body: dict, status: int) -> None:
    reply = app.post("/webhooks/sandbox/webhook", json=body)
    assert reply.status_code == status
    assert "error" in reply.json()


def test_a_photo_upload_reaches_the_bot_as_media_with_a_stored_link(
    app: ChannelApp, hub: ChannelHub
) -> None:
    chat = conversation()
    reply = app.post(
        "/webhooks/sandbox/webhook",
        data={"conversation": chat, "message_id": "p-1", "text": ""},
        files={"file": ("foto.png", PNG, "image/png")},
    )
    assert reply.status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "/send_media"
    (media,) = message.metadata["media"]
    assert media["content_type"] == "image/png"
    assert media["filename"] == "foto.png"
    assert hub.media_store.path(media["name"]).read_bytes() == PNG


def multipart(boundary: bytes, *parts: bytes) -> bytes:
    return b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + (
        b"--" + boundary + b"--\r\n"
    )


FIELDS = (
    b'Content-Disposition: form-data; name="conversation"\r\n\r\nabcdefgh12',
    b'Content-Disposition: form-data; name="message_id"\r\n\r\nm-1',
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", multipart(b"b", *FIELDS)),  # no boundary declared
        ("multipart/form-data; boundary=b", multipart(b"b", *FIELDS, b"no colon\r\n\r\nx")),
        (
            "multipart/form-data; boundary=b",
            multipart(b"b", *FIELDS, b'Content-Disposition: form-data; name="\xff"\r\n\r\nx'),
        ),
        (
            "multipart/form-data; boundary=b",
            multipart(
                b"b",
                *FIELDS,
                b'Content-Disposition: form-data; name="text"\r\n'
                b"Content-Type: text/plain; charset=bogus\r\n\r\nhola",
            ),
        ),
        (
            "multipart/form-data; boundary=b",
            multipart(b"b", *FIELDS, b'Content-Disposition: form-data; name="text"\r\n\r\ncaf\xe9'),
        ),
    ],
    ids=["no-boundary", "header-without-colon", "header-not-utf8", "unknown-charset", "latin-1"],
)
def test_an_upload_that_is_not_a_form_gets_a_400_and_no_error_in_the_log(
    app: ChannelApp, caplog: pytest.LogCaptureFixture, content_type: str, body: bytes
) -> None:
    """Sanic logged a stack trace for each of these, then the sandbox asked for a conversation."""
    reply = app.post(
        "/webhooks/sandbox/webhook", content=body, headers={"Content-Type": content_type}
    )
    assert reply.status_code == 400
    assert "malformed" in reply.json()["error"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_file_that_is_not_what_it_claims_is_refused_politely(
    app: ChannelApp, hub: ChannelHub
) -> None:
    chat = conversation()
    app.post(
        "/webhooks/sandbox/webhook",
        data={"conversation": chat, "message_id": "x-1"},
        files={"file": ("foto.png", b"<script>alert(1)</script>", "image/png")},
    )
    (refusal,) = wait_outbound(hub, f"sandbox:{chat}", 1)
    assert refusal.source == "system"
    assert "no lo puedo recibir" in refusal.text
    time.sleep(0.2)
    assert app.bot.received == []


def test_the_bot_failing_gets_retried_then_the_customer_an_apology(hub: ChannelHub) -> None:
    served = ChannelApp([SandboxInput(hub=hub)], EchoBot(fail_times=3))
    hub.dispatcher.retry_delay = 0.05
    try:
        chat = conversation()
        served.post(
            "/webhooks/sandbox/webhook",
            json={"conversation": chat, "message_id": "f-1", "text": "hola"},
        )
        (apology,) = wait_outbound(hub, f"sandbox:{chat}", 1)
        assert "problema técnico" in apology.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and hub.inbox.counts() != {"failed": 1}:
            time.sleep(0.02)
        assert hub.inbox.counts() == {"failed": 1}
    finally:
        served.close()
