"""Messenger and Instagram through the whole core, httpx talking to a fake Graph API and CDN.

Webhooks are signed like Meta signs them (HMAC-SHA256 of the exact bytes with the App Secret)
and posted over real HTTP to a real Sanic server; replies go through the real httpx client to
a FakeProvider standing in for graph.facebook.com and Meta's CDN.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from connectors.core import ChannelHub
from connectors.messages import DeliveryStatus, InboundMessage, Kind
from connectors.messenger import MessengerInput
from connectors.outbox import OutboundRecord
from connectors.settings import MessengerSettings, Secret
from tests.support.channel_app import ChannelApp, EchoBot
from tests.support.fake_provider import FakeProvider, Recorded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "messenger"
SPEC_SIGNATURE = "sha256=fa5d37e8c55ec4064277714d343885f5739b403fc6a921a6fdf6ffd20474e7cd"
APP_SECRET = "test_app_secret"
PAGE_TOKEN = "EAAG-page-token"
PAGE_ID = "107390181234567"
PSID = "6543210987654321"
WEBHOOK = "/webhooks/messenger/webhook"
SEND = r"/v21\.0/me/messages"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
HOUR = 3600.0


def settings(provider: FakeProvider, **overrides: str) -> MessengerSettings:
    values = {
        "verify_token": Secret("my-verify-token"),
        "app_secret": Secret(APP_SECRET),
        "page_access_token": Secret(PAGE_TOKEN),
        "api_base_url": provider.url,
        "api_version": "v21.0",
    }
    values.update(overrides)
    return MessengerSettings(**values)  # type: ignore[arg-type]


def graph_send_api(provider: FakeProvider) -> None:
    """The Send API's success answer, a fresh message_id each time."""
    counter = itertools.count(1)

    def answer(request: Recorded) -> tuple:
        recipient = request.json()["recipient"]["id"]
        return 200, {"recipient_id": recipient, "message_id": f"m_out_{next(counter)}"}

    provider.route("POST", SEND, answer)


def serve(hub: ChannelHub, provider: FakeProvider, bot: EchoBot | None = None) -> ChannelApp:
    graph_send_api(provider)
    return ChannelApp([MessengerInput(settings(provider), hub=hub)], bot)


@pytest.fixture
def app(hub: ChannelHub, provider: FakeProvider) -> Iterator[ChannelApp]:
    served = serve(hub, provider)
    yield served
    served.close()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(app: ChannelApp, body: bytes | dict[str, Any], *, signed: bool = True) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = signature(raw)
    return app.post(WEBHOOK, content=raw, headers=headers)


def now_ms() -> int:
    return int(time.time() * 1000)


def envelope(*events: dict[str, Any], obj: str = "page", account: str = PAGE_ID) -> dict:
    return {"object": obj, "entry": [{"id": account, "time": now_ms(), "messaging": list(events)}]}


def text_event(mid: str, text: str, sender: str = PSID, at: int | None = None) -> dict:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": at or now_ms(),
        "message": {"mid": mid, "text": text},
    }


def fixture(name: str) -> dict[str, Any]:
    """A fixture with its timestamps moved to now (the messaging window is real)."""
    data = json.loads((FIXTURES / name).read_bytes())
    for entry in data["entry"]:
        entry["time"] = now_ms()
        for event in entry["messaging"]:
            if "timestamp" in event:
                event["timestamp"] = now_ms()
    return data


def wait_outbound(hub: ChannelHub, conversation_id: str, count: int) -> list[OutboundRecord]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = hub.outbox.conversation(conversation_id)
        if len(records) >= count and all(r.status is not DeliveryStatus.SENDING for r in records):
            return records
        time.sleep(0.02)
    raise AssertionError(f"expected {count} outbound messages")


def wait_done(hub: ChannelHub, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if hub.inbox.counts().get("done", 0) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"expected {count} processed messages, have {hub.inbox.counts()}")


def sent_bodies(provider: FakeProvider) -> list[dict[str, Any]]:
    return [request.json() for request in provider.calls("POST", SEND)]


def customer_wrote(hub: ChannelHub, conversation_id: str, hours_ago: float) -> None:
    hub.customers.record_inbound(
        InboundMessage(
            channel="messenger",
            conversation_id=conversation_id,
            provider_id=f"m_earlier_{hours_ago}",
            kind=Kind.TEXT,
            sent_at=time.time() - hours_ago * HOUR,
            text="hola",
        )
    )


def send_as(app: ChannelApp, conversation_id: str, message: dict[str, Any]) -> None:
    """What the desk and Rasa's HTTP API do: send through `get_output_channel()`."""
    (channel,) = app.channels
    output = channel.get_output_channel()
    assert output is not None
    asyncio.run(output.send_response(conversation_id, message))


# --- webhook basics ------------------------------------------------------------------------


def test_the_spec_fixture_with_the_spec_signature_reaches_the_bot(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    body = (FIXTURES / "text.json").read_bytes()
    assert signature(body) == SPEC_SIGNATURE
    reply = app.post(
        WEBHOOK,
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": SPEC_SIGNATURE},
    )
    assert reply.status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == f"messenger:{PSID}"
    assert message.input_channel == "messenger"
    assert message.message_id == "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert message.text == "hello, world!"
    assert message.metadata["channel"] == "messenger"
    assert message.metadata["kind"] == "text"
    assert message.metadata["provider_message_id"] == "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    # The fixture's customer wrote in November 2023: the bot may not answer any more.
    (record,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    assert record.status is DeliveryStatus.FAILED
    assert record.error_code == "window_closed"
    assert provider.calls("POST", SEND) == []


def test_a_message_is_answered_through_the_send_api_in_its_exact_format(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    assert post(app, envelope(text_event("m_hola_1", "hola"))).status_code == 200
    (record,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    assert record.status is DeliveryStatus.SENT
    assert record.provider_id == "m_out_1"
    (request,) = provider.calls("POST", SEND)
    assert request.query == {"access_token": [PAGE_TOKEN]}
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "echo: hola"},
    }


def test_a_repeated_delivery_is_processed_once(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    body = json.dumps(envelope(text_event("m_dup_1", "hola"))).encode()
    assert post(app, body).status_code == 200
    assert post(app, body).status_code == 200
    wait_done(hub, 1)
    assert hub.inbox.counts() == {"done": 1}
    assert app.bot.texts() == ["hola"]
    assert len(wait_outbound(hub, f"messenger:{PSID}", 1)) == 1


@pytest.mark.parametrize(
    "header",
    [
        None,
        "sha256=" + "0" * 64,
        "fa5d37e8c55ec4064277714d343885f5739b403fc6a921a6fdf6ffd20474e7cd",
    ],
)
def test_a_missing_or_wrong_signature_is_refused(
    app: ChannelApp, hub: ChannelHub, header: str | None
) -> None:
    body = json.dumps(envelope(text_event("m_forged", "hola"))).encode()
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    assert app.post(WEBHOOK, content=body, headers=headers).status_code == 403
    assert hub.inbox.counts() == {}


def test_a_body_signed_with_another_secret_is_refused(app: ChannelApp, hub: ChannelHub) -> None:
    body = (FIXTURES / "text.json").read_bytes()
    headers = {"X-Hub-Signature-256": signature(body, "not_the_app_secret")}
    assert app.post(WEBHOOK, content=body, headers=headers).status_code == 403
    assert hub.inbox.counts() == {}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"object":"whatsapp_business_account","entry":[]}',
        b'{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"timestamp":1,'
        b'"message":{"text":"no mid"}}]}]}',
    ],
)
def test_a_malformed_body_is_a_400(app: ChannelApp, hub: ChannelHub, body: bytes) -> None:
    reply = post(app, body)
    assert reply.status_code == 400
    assert "malformed" in reply.json()["error"]
    assert hub.inbox.counts() == {}


def test_events_hilo_does_not_handle_are_acknowledged_and_not_processed(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    reply = post(app, fixture("other_events.json"))
    assert reply.status_code == 200
    assert hub.inbox.counts() == {}  # stored before the 200: nothing was, nothing will run
    assert provider.calls("POST", SEND) == []


def test_an_echo_of_our_own_message_is_never_processed(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    assert post(app, fixture("echo.json")).status_code == 200
    assert hub.inbox.counts() == {}
    assert provider.calls("POST", SEND) == []


def test_not_configured_answers_503_to_the_webhook_and_the_handshake(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    channel = MessengerInput(settings(provider, app_secret=Secret("")), hub=hub)
    served = ChannelApp([channel])
    try:
        reply = post(served, fixture("text.json"))
        assert reply.status_code == 503
        assert reply.json()["set"] == ["MESSENGER_APP_SECRET"]
        handshake = served.get(
            WEBHOOK,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "my-verify-token",
                "hub.challenge": "1158201444",
            },
        )
        assert handshake.status_code == 503
        assert served.get("/webhooks/messenger/").json()["status"] == "not configured"
    finally:
        served.close()


# --- handshake -----------------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_for_the_right_token(app: ChannelApp) -> None:
    reply = app.get(
        WEBHOOK,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "my-verify-token",
            "hub.challenge": "1158201444",
        },
    )
    assert reply.status_code == 200
    assert reply.text == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "my-verify-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_the_handshake_refuses_a_wrong_token_or_mode(
    app: ChannelApp, params: dict[str, str]
) -> None:
    reply = app.get(WEBHOOK, params=params)
    assert reply.status_code == 403
    assert reply.text != "1"  # the challenge is not echoed


# --- inbound kinds -------------------------------------------------------------------------


def test_every_event_of_a_batch_is_processed_in_order_per_conversation(
    app: ChannelApp, hub: ChannelHub
) -> None:
    assert post(app, fixture("batch.json")).status_code == 200
    received = app.bot.wait_for(4)
    by_sender: dict[str, list[str]] = {}
    for message in received:
        by_sender.setdefault(message.sender_id, []).append(message.text)
    assert by_sender == {
        "messenger:1111111111111111": ["uno", "dos"],
        "messenger:2222222222222222": ["one", "two"],
    }
    assert {m.message_id for m in received} == {
        "m_batch_a1",
        "m_batch_b1",
        "m_batch_a2",
        "m_batch_b2",
    }


def test_a_quick_reply_tap_gives_the_bot_its_payload(app: ChannelApp) -> None:
    assert post(app, fixture("quick_reply.json")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "COLOR_RED"
    assert message.metadata["kind"] == "button"
    assert message.metadata["caption"] == "Red"


def test_a_postback_gives_the_bot_its_payload_and_a_mid_less_one_is_deduped(
    app: ChannelApp, hub: ChannelHub
) -> None:
    assert post(app, fixture("postback.json")).status_code == 200
    without_mid = json.dumps(fixture("postback_without_mid.json")).encode()
    assert post(app, without_mid).status_code == 200
    assert post(app, without_mid).status_code == 200
    wait_done(hub, 2)
    assert sorted(app.bot.texts()) == ["/human_handoff", "GET_STARTED"]
    assert hub.inbox.counts() == {"done": 2}


def test_an_image_is_fetched_from_the_cdn_and_stored(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    provider.route("GET", r"/cdn/v/t1\.15752-9/12345_n\.jpg", lambda r: (200, JPEG))
    data = fixture("image.json")
    url = f"{provider.url}/cdn/v/t1.15752-9/12345_n.jpg?_nc_cat=1&oh=abc"
    data["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = url
    assert post(app, data).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "/send_media"
    assert message.metadata["kind"] == "media"
    (media,) = message.metadata["media"]
    assert media["content_type"] == "image/jpeg"
    assert media["refused"] is None
    assert media["url"].endswith(media["name"])
    assert hub.media_store.path(media["name"]).read_bytes() == JPEG
    (download,) = provider.calls("GET", r"/cdn/.*")
    assert download.query == {"_nc_cat": ["1"], "oh": ["abc"]}  # the signed CDN URL, as is
    assert "authorization" not in download.headers


def test_an_image_over_the_limit_is_refused_politely(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    provider.route("GET", r"/cdn/big\.jpg", lambda r: (200, JPEG + b"\x00" * (2 * 1024 * 1024)))
    data = fixture("image.json")
    data["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = (
        f"{provider.url}/cdn/big.jpg"
    )
    assert post(app, data).status_code == 200
    (refusal,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    assert refusal.source == "system"
    assert "demasiado grande" in refusal.text
    assert refusal.status is DeliveryStatus.SENT
    wait_done(hub, 1)
    assert app.bot.received == []


def test_instagram_messages_are_answered_through_the_same_send_api(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    assert post(app, fixture("instagram_text.json")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == "instagram:1234567890123456"
    assert message.input_channel == "messenger"
    (record,) = wait_outbound(hub, "instagram:1234567890123456", 1)
    assert record.status is DeliveryStatus.SENT
    (request,) = provider.calls("POST", SEND)
    assert request.json() == {
        "recipient": {"id": "1234567890123456"},
        "messaging_type": "RESPONSE",
        "message": {"text": "echo: hola desde instagram"},
    }
    assert request.query == {"access_token": [PAGE_TOKEN]}


# --- statuses ------------------------------------------------------------------------------


def test_delivery_and_read_move_the_outbound_status_forward_never_back(
    app: ChannelApp, hub: ChannelHub
) -> None:
    post(app, envelope(text_event("m_status_1", "hola")))
    (record,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    mid = record.provider_id
    assert mid
    delivery = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "delivery": {"mids": [mid], "watermark": now_ms()},
    }
    assert post(app, envelope(delivery)).status_code == 200
    assert hub.outbox.get(record.id).status is DeliveryStatus.DELIVERED
    seen = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "read": {"mid": mid},
    }
    assert post(app, envelope(seen)).status_code == 200
    assert hub.outbox.get(record.id).status is DeliveryStatus.READ
    assert post(app, envelope(delivery)).status_code == 200  # a late delivery
    assert hub.outbox.get(record.id).status is DeliveryStatus.READ
    assert post(app, fixture("read.json")).status_code == 200  # watermark only: no change
    assert hub.inbox.counts() == {"done": 1}


# --- buttons and long texts ----------------------------------------------------------------


def replying(first: list[dict[str, Any]]) -> Callable[[UserMessage], list[dict[str, Any]]]:
    """A bot that answers the first message with `first` and then echoes."""

    def reply(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "menu":
            return first
        return [{"text": f"echo: {message.text}"}]

    return reply


def test_buttons_go_as_quick_replies_and_a_tap_on_a_long_payload_maps_back(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    long_payload = '/inform{"order": "' + "x" * 1000 + '"}'
    buttons = [
        {"title": "Rojo", "payload": "COLOR_RED"},
        {"title": "Un título demasiado largo", "payload": long_payload},
    ]
    served = serve(hub, provider, EchoBot(reply=replying([{"text": "Elegí:", "buttons": buttons}])))
    try:
        post(served, envelope(text_event("m_menu", "menu")))
        wait_outbound(hub, f"messenger:{PSID}", 1)
        (body,) = sent_bodies(provider)
        assert body == {
            "recipient": {"id": PSID},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Elegí:",
                "quick_replies": [
                    {"content_type": "text", "title": "Rojo", "payload": "COLOR_RED"},
                    {"content_type": "text", "title": "Un título demasiado…", "payload": "#2"},
                ],
            },
        }
        tap = text_event("m_tap", "Un título demasiado…")
        tap["message"]["quick_reply"] = {"payload": "#2"}
        post(served, envelope(tap))
        received = served.bot.wait_for(2)
        assert received[1].text == long_payload
    finally:
        served.close()


def test_more_than_13_buttons_go_as_a_numbered_list_and_a_typed_number_answers(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    buttons = [{"title": f"Opción {i}", "payload": f"/option_{i}"} for i in range(1, 15)]
    served = serve(hub, provider, EchoBot(reply=replying([{"text": "Elegí:", "buttons": buttons}])))
    try:
        post(served, envelope(text_event("m_menu", "menu")))
        wait_outbound(hub, f"messenger:{PSID}", 1)
        (body,) = sent_bodies(provider)
        lines = "\n".join(f"{i}. Opción {i}" for i in range(1, 15))
        assert body["message"] == {"text": f"Elegí:\n\n{lines}"}
        post(served, envelope(text_event("m_fourteen", "14")))
        received = served.bot.wait_for(2)
        assert received[1].text == "/option_14"
        assert received[1].metadata["kind"] == "button"
    finally:
        served.close()


def test_a_long_text_with_a_numbered_list_still_fits_in_2000(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    text = " ".join(f"Frase número {i}." for i in range(120))[:1900]
    buttons = [{"title": f"Opción número {i}", "payload": f"/option_{i}"} for i in range(1, 15)]
    served = serve(hub, provider, EchoBot(reply=replying([{"text": text, "buttons": buttons}])))
    try:
        post(served, envelope(text_event("m_menu", "menu")))
        wait_outbound(hub, f"messenger:{PSID}", 2)
        pieces = [body["message"]["text"] for body in sent_bodies(provider)]
        assert len(pieces) == 2
        assert all(len(piece) <= 2000 for piece in pieces)
        assert pieces[1].endswith("14. Opción número 14")
    finally:
        served.close()


def test_a_long_reply_is_split_into_messages_of_at_most_2000(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    sentences = " ".join(f"Frase número {i} del texto largo." for i in range(200))
    text = sentences[:4500]
    served = serve(hub, provider, EchoBot(reply=lambda m: [{"text": text}]))
    try:
        post(served, envelope(text_event("m_long", "contame todo")))
        records = wait_outbound(hub, f"messenger:{PSID}", 3)
        assert [r.status for r in records] == [DeliveryStatus.SENT] * 3
        pieces = [body["message"]["text"] for body in sent_bodies(provider)]
        assert len(pieces) == 3
        assert all(len(piece) <= 2000 for piece in pieces)
        assert " ".join(pieces).split() == text.split()
    finally:
        served.close()


def test_images_and_documents_go_as_attachments(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    conversation = f"messenger:{PSID}"
    customer_wrote(hub, conversation, hours_ago=1)
    send_as(app, conversation, {"image": "https://hilo.example/media/foto.jpg"})
    send_as(app, conversation, {"attachment": {"url": "https://hilo.example/f.pdf"}})
    assert [body["message"] for body in sent_bodies(provider)] == [
        {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://hilo.example/media/foto.jpg", "is_reusable": True},
            }
        },
        {
            "attachment": {
                "type": "file",
                "payload": {"url": "https://hilo.example/f.pdf", "is_reusable": True},
            }
        },
    ]


# --- the messaging window ------------------------------------------------------------------


def test_within_24_hours_replies_are_responses_without_a_tag(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    conversation = f"messenger:{PSID}"
    customer_wrote(hub, conversation, hours_ago=23)
    send_as(app, conversation, {"text": "Hola de nuevo"})
    send_as(app, conversation, {"text": "Soy Anna", "source": "agent", "agent_id": "anna"})
    bodies = sent_bodies(provider)
    assert [(b["messaging_type"], "tag" in b) for b in bodies] == [
        ("RESPONSE", False),
        ("RESPONSE", False),
    ]


def test_after_30_hours_the_bot_is_refused_and_an_agent_is_tagged_human_agent(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    conversation = f"messenger:{PSID}"
    customer_wrote(hub, conversation, hours_ago=30)
    send_as(app, conversation, {"text": "¿Seguís ahí?"})
    (refused,) = hub.outbox.conversation(conversation)
    assert refused.status is DeliveryStatus.FAILED
    assert refused.error_code == "window_closed"
    assert provider.calls("POST", SEND) == []
    send_as(
        app, conversation, {"text": "Soy Anna, te ayudo", "source": "agent", "agent_id": "anna"}
    )
    (body,) = sent_bodies(provider)
    assert body == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Soy Anna, te ayudo"},
    }
    _, agent = hub.outbox.conversation(conversation)
    assert (agent.source, agent.status) == ("agent", DeliveryStatus.SENT)


def test_after_8_days_even_an_agent_is_refused(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    conversation = f"messenger:{PSID}"
    customer_wrote(hub, conversation, hours_ago=8 * 24)
    send_as(app, conversation, {"text": "Soy Anna", "source": "agent", "agent_id": "anna"})
    (refused,) = hub.outbox.conversation(conversation)
    assert (refused.status, refused.error_code) == (DeliveryStatus.FAILED, "window_closed")
    assert provider.calls("POST", SEND) == []


# --- Graph errors --------------------------------------------------------------------------


def test_a_graph_error_is_recorded_with_its_code(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    error = {
        "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "type": "OAuthException",
            "code": 10,
            "error_subcode": 2018278,
            "fbtrace_id": "A1b2C3",
        }
    }
    provider.route("POST", SEND, lambda r: (400, error))
    post(app, envelope(text_event("m_err", "hola")))
    (record,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    assert record.status is DeliveryStatus.FAILED
    assert record.error_code == "10"
    assert "outside of allowed window" in (record.error_message or "")
    assert len(provider.calls("POST", SEND)) == 1  # not retryable


def test_a_rate_limit_is_retried_and_then_sent(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    answers = iter(
        [
            (
                400,
                {
                    "error": {
                        "message": "(#613) Calls to this api have exceeded the rate limit.",
                        "type": "OAuthException",
                        "code": 613,
                    }
                },
            ),
        ]
    )

    def limited_once(request: Recorded) -> tuple:
        try:
            return next(answers)
        except StopIteration:
            return 200, {"recipient_id": PSID, "message_id": "m_after_retry"}

    provider.route("POST", SEND, limited_once)
    post(app, envelope(text_event("m_rate", "hola")))
    (record,) = wait_outbound(hub, f"messenger:{PSID}", 1)
    assert record.status is DeliveryStatus.SENT
    assert record.provider_id == "m_after_retry"
    calls = provider.calls("POST", SEND)
    assert len(calls) == 2
    assert calls[0].json() == calls[1].json()
