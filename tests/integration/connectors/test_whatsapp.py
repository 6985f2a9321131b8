"""The WhatsApp Cloud API channel through the whole core, with a fake Graph API on 127.0.0.1.

Webhooks arrive over real HTTP, signed like Meta signs them; replies go out through httpx to
the fake Graph API, which records them.
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
from connectors.outbox import OutboundRecord
from connectors.settings import WhatsAppSettings
from connectors.whatsapp import WhatsAppInput
from tests.support.channel_app import ChannelApp, EchoBot
from tests.support.fake_provider import FakeProvider, Recorded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "whatsapp"
WEBHOOK = "/webhooks/whatsapp/webhook"
SECRET = "test_app_secret"
TOKEN = "EAAG-test-access-token"
PHONE_ID = "106540352242922"
MESSAGES = rf"/v21\.0/{PHONE_ID}/messages"
CUSTOMER = "whatsapp:+16505551234"
SPEC_VECTOR = "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


def settings(provider: FakeProvider, **changes: str) -> WhatsAppSettings:
    values = {
        "verify_token": "my-verify-token",
        "app_secret": SECRET,
        "access_token": TOKEN,
        "phone_number_id": PHONE_ID,
        "api_base_url": provider.url,
        "api_version": "v21.0",
        "template_name": "hilo_reengagement",
        "template_language": "es_MX",
        **changes,
    }
    return WhatsAppSettings(**values)  # type: ignore[arg-type]


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fresh(name: str, edit: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    """A fixture whose messages were just sent (so the 24 h window is open)."""
    data = json.loads(fixture(name))
    now = int(time.time())
    for entry in data["entry"]:
        for change in entry["changes"]:
            for message in change["value"].get("messages", []):
                message["timestamp"] = str(now - 100 + int(message["timestamp"]) % 100)
    if edit is not None:
        edit(data)
    return json.dumps(data, separators=(",", ":")).encode()


def graph_ok(provider: FakeProvider, ids: Iterator[str] | None = None) -> None:
    """The send endpoint accepts everything, answering ids from `ids` (default OUT1, OUT2…)."""
    numbers = ids or (f"wamid.OUT{n}" for n in itertools.count(1))

    def accept(request: Recorded) -> tuple:
        to = request.json()["to"]
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": next(numbers)}],
        }

    provider.route("POST", MESSAGES, accept)


def graph_error(code: int, message: str, status: int = 400) -> tuple:
    return status, {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "A1b2C3",
        }
    }


def wait_records(
    hub: ChannelHub,
    conversation_id: str,
    count: int,
    done: Callable[[list[OutboundRecord]], bool] | None = None,
) -> list[OutboundRecord]:
    """The conversation's outbound records once `count` exist and none is still sending."""
    deadline = time.monotonic() + 10
    records: list[OutboundRecord] = []
    while time.monotonic() < deadline:
        records = hub.outbox.conversation(conversation_id)
        settled = all(r.status is not DeliveryStatus.SENDING for r in records)
        if len(records) >= count and settled and (done is None or done(records)):
            return records
        time.sleep(0.02)
    raise AssertionError(f"expected {count} settled outbound records, got {records}")


@pytest.fixture
def channel(hub: ChannelHub, provider: FakeProvider) -> WhatsAppInput:
    graph_ok(provider)
    return WhatsAppInput(settings(provider), hub=hub)


@pytest.fixture
def app(channel: WhatsAppInput) -> Iterator[ChannelApp]:
    served = ChannelApp([channel])
    yield served
    served.close()


def serve(channel: WhatsAppInput, reply: Callable[[UserMessage], list[dict[str, Any]]]) -> Any:
    return ChannelApp([channel], EchoBot(reply=reply))


# --- webhook: handshake, signature, parsing ------------------------------------------------


def test_the_spec_fixture_with_the_spec_signature_is_accepted(
    app: ChannelApp, hub: ChannelHub
) -> None:
    reply = app.post(
        WEBHOOK, content=fixture("text.json"), headers={"X-Hub-Signature-256": SPEC_VECTOR}
    )
    assert reply.status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == CUSTOMER
    assert message.text == "Does it come in another color?"
    assert message.message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def test_a_text_reaches_the_bot_and_the_reply_reaches_the_graph_api(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    body = fresh("text.json")
    assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == CUSTOMER
    assert message.input_channel == "whatsapp"
    assert message.message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert message.text == "Does it come in another color?"
    assert message.metadata["channel"] == "whatsapp"
    assert message.metadata["kind"] == "text"
    assert message.metadata["display_name"] == "Sheena Nelson"
    (sent,) = provider.wait_for("POST", MESSAGES)
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "echo: Does it come in another color?"},
    }
    (record,) = wait_records(hub, CUSTOMER, 1)
    assert (record.status, record.provider_id) == (DeliveryStatus.SENT, "wamid.OUT1")
    profile = hub.customers.profile(CUSTOMER)
    assert profile is not None
    assert profile.phone == "+16505551234"


def test_the_handshake_answers_the_challenge_only_for_the_right_token(app: ChannelApp) -> None:
    good = app.get(
        WEBHOOK,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": "my-verify-token",
        },
    )
    assert (good.status_code, good.text) == (200, "1158201444")
    bad = app.get(
        WEBHOOK,
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "x"},
    )
    assert bad.status_code == 403
    assert "1158201444" not in bad.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        sign(fixture("text.json"), secret="my-verify-token"),
    ],
)
def test_missing_or_bad_signatures_get_403(app: ChannelApp, headers: dict[str, str]) -> None:
    reply = app.post(WEBHOOK, content=fixture("text.json"), headers=headers)
    assert reply.status_code == 403
    time.sleep(0.2)
    assert app.bot.received == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"object":"whatsapp_business_account","entry":{"x":1}}'],
)
def test_malformed_bodies_get_400(app: ChannelApp, hub: ChannelHub, body: bytes) -> None:
    reply = app.post(WEBHOOK, content=body, headers=sign(body))
    assert reply.status_code == 400
    assert "malformed" in reply.json()["error"]
    assert hub.inbox.counts() == {}


def test_an_unknown_field_change_is_acknowledged_and_ignored(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    body = fixture("unknown_field.json")
    assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200
    reaction = fresh("reaction.json")
    assert app.post(WEBHOOK, content=reaction, headers=sign(reaction)).status_code == 200
    time.sleep(0.3)
    assert app.bot.received == []
    assert hub.inbox.counts() == {}
    assert provider.calls("POST", MESSAGES) == []


def test_not_configured_answers_503_naming_the_variables(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    channel = WhatsAppInput(settings(provider, access_token="", app_secret=""), hub=hub)
    served = ChannelApp([channel])
    try:
        body = fixture("text.json")
        reply = served.post(WEBHOOK, content=body, headers=sign(body))
        assert reply.status_code == 503
        assert reply.json()["set"] == ["WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN"]
        handshake = served.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.challenge": "1"})
        assert handshake.status_code == 503
        assert channel.get_output_channel() is None
    finally:
        served.close()


# --- batches, duplicates, statuses ---------------------------------------------------------


def test_a_batch_reaches_the_bot_once_per_message_in_order_per_conversation(
    app: ChannelApp, hub: ChannelHub
) -> None:
    body = fresh("batch.json")
    assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200
    assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200  # redelivery
    received = app.bot.wait_for(6)
    time.sleep(0.3)
    assert len(app.bot.received) == 6
    by_customer: dict[str, list[str]] = {}
    for message in received:
        by_customer.setdefault(message.sender_id, []).append(message.text)
    assert by_customer == {
        "whatsapp:+5215511111111": ["1111 mensaje 1", "1111 mensaje 2", "1111 mensaje 3"],
        "whatsapp:+5215522222222": ["2222 mensaje 1", "2222 mensaje 2", "2222 mensaje 3"],
    }
    assert {m.metadata["display_name"] for m in received} == {"Cliente A", "Cliente B"}


def test_a_redelivered_message_is_processed_once(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    body = fresh("text.json")
    for _ in range(3):
        assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200
    app.bot.wait_for(1)
    wait_records(hub, CUSTOMER, 1)
    time.sleep(0.3)
    assert len(app.bot.received) == 1
    assert len(provider.calls("POST", MESSAGES)) == 1
    assert hub.inbox.counts() == {"done": 1}


def test_statuses_out_of_order_never_move_backwards(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    graph_ok(provider, iter(["wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"]))
    served = ChannelApp([WhatsAppInput(settings(provider), hub=hub)])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (record,) = wait_records(hub, CUSTOMER, 1)
        assert record.status is DeliveryStatus.SENT
        for name in ("status_read.json", "status_delivered.json"):
            status = fixture(name)
            assert served.post(WEBHOOK, content=status, headers=sign(status)).status_code == 200
        (record,) = hub.outbox.conversation(CUSTOMER)
        assert record.status is DeliveryStatus.READ
    finally:
        served.close()


def test_a_failed_status_marks_the_message_failed_with_metas_code(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    graph_ok(provider, iter(["wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"]))
    served = ChannelApp([WhatsAppInput(settings(provider), hub=hub)])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        wait_records(hub, CUSTOMER, 1)
        failed = fixture("status_failed.json")
        assert served.post(WEBHOOK, content=failed, headers=sign(failed)).status_code == 200
        (record,) = hub.outbox.conversation(CUSTOMER)
        assert record.status is DeliveryStatus.FAILED
        assert record.error_code == "131047"
        assert record.error_message is not None
        assert "24 hours" in record.error_message
    finally:
        served.close()


# --- media ---------------------------------------------------------------------------------


def media_routes(provider: FakeProvider, file_size: int = len(JPEG)) -> None:
    provider.route(
        "GET",
        r"/v21\.0/1003383421387256",
        lambda _r: (
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{provider.url}/whatsapp_business/attachments/?mid=1003383421387256",
                "mime_type": "image/jpeg",
                "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
                "file_size": file_size,
                "id": "1003383421387256",
            },
        ),
    )
    provider.route(
        "GET",
        r"/whatsapp_business/attachments/",
        lambda _r: (200, JPEG, {"Content-Type": "image/jpeg"}),
    )


def test_an_image_is_fetched_with_the_token_and_stored(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    media_routes(provider)
    body = fresh("image.json")
    assert app.post(WEBHOOK, content=body, headers=sign(body)).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "Taj Mahal"
    assert message.metadata["kind"] == "media"
    assert message.metadata["caption"] == "Taj Mahal"
    (media,) = message.metadata["media"]
    assert media["content_type"] == "image/jpeg"
    assert media["url"].endswith(media["name"])
    assert hub.media_store.path(media["name"]).read_bytes() == JPEG
    (lookup,) = provider.calls("GET", r"/v21\.0/1003383421387256")
    (download,) = provider.calls("GET", r"/whatsapp_business/attachments/")
    assert lookup.headers["authorization"] == f"Bearer {TOKEN}"
    assert download.headers["authorization"] == f"Bearer {TOKEN}"
    assert download.query == {"mid": ["1003383421387256"]}


def test_a_file_larger_than_the_limit_is_refused_without_downloading(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    media_routes(provider, file_size=5 * 1024 * 1024)
    body = fresh("image.json")
    app.post(WEBHOOK, content=body, headers=sign(body))
    (message,) = app.bot.wait_for(1)  # the caption still reaches the bot
    assert message.metadata["media"][0]["refused"] == "too_large"
    refusal = wait_records(hub, CUSTOMER, 2)[0]
    assert "demasiado grande" in refusal.text
    assert provider.calls("GET", r"/whatsapp_business/attachments/") == []


@pytest.mark.parametrize("how", ["graph_names_it", "redirect"])
def test_media_is_never_fetched_from_a_host_off_the_list(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider, how: str
) -> None:
    """A service inside the network (here another server on 127.0.0.1) is never fetched."""
    internal = FakeProvider()
    internal.route("GET", r"/.*", lambda _r: (200, JPEG, {"Content-Type": "image/jpeg"}))
    try:
        media_routes(provider)
        if how == "graph_names_it":
            provider.route(
                "GET",
                r"/v21\.0/1003383421387256",
                lambda _r: (200, {"url": f"{internal.url}/latest/meta-data", "id": "1"}),
            )
        else:
            provider.route(
                "GET",
                r"/whatsapp_business/attachments/",
                lambda _r: (302, b"", {"Location": f"{internal.url}/latest/meta-data"}),
            )
        body = fresh("image.json")
        app.post(WEBHOOK, content=body, headers=sign(body))
        (message,) = app.bot.wait_for(1)
        assert message.metadata["media"][0]["refused"] == "download"
        assert "no pude descargar" in wait_records(hub, CUSTOMER, 2)[0].text
        assert internal.calls("GET", r"/.*") == []
    finally:
        internal.close()


def test_a_media_id_the_graph_api_does_not_know_gets_a_polite_refusal(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    provider.route(
        "GET", r"/v21\.0/1003383421387256", lambda _r: graph_error(100, "Invalid media id", 404)
    )
    body = fresh("image.json")
    app.post(WEBHOOK, content=body, headers=sign(body))
    (message,) = app.bot.wait_for(1)
    assert message.metadata["media"][0]["refused"] == "download"
    assert "no pude descargar" in wait_records(hub, CUSTOMER, 2)[0].text


# --- outbound: buttons, lists, long texts, media -------------------------------------------


def test_reply_buttons_go_out_as_the_graph_api_expects(
    channel: WhatsAppInput, provider: FakeProvider
) -> None:
    buttons = [
        {"title": "Change", "payload": "change-button"},
        {"title": "Cancel", "payload": "cancel-button"},
    ]
    served = serve(channel, lambda _m: [{"text": "Change or cancel?", "buttons": buttons}])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (sent,) = provider.wait_for("POST", MESSAGES)
        assert sent.body == (
            b'{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",'
            b'"type":"interactive","interactive":{"type":"button","body":{"text":"Change or '
            b'cancel?"},"action":{"buttons":[{"type":"reply","reply":{"id":"change-button",'
            b'"title":"Change"}},{"type":"reply","reply":{"id":"cancel-button","title":"Cancel"'
            b"}}]}}}"
        )
    finally:
        served.close()


def test_five_buttons_go_out_as_a_list(channel: WhatsAppInput, provider: FakeProvider) -> None:
    titles = ["Estado de mi pedido", "Cambiar dirección", "Cancelar", "Devolución", "Persona"]
    buttons = [{"title": t, "payload": f"/opt{n}"} for n, t in enumerate(titles, 1)]
    served = serve(channel, lambda _m: [{"text": "¿En qué te ayudo?", "buttons": buttons}])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (sent,) = provider.wait_for("POST", MESSAGES)
        assert sent.json() == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505551234",
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "¿En qué te ayudo?"},
                "action": {
                    "button": "Opciones",
                    "sections": [
                        {"rows": [{"id": f"/opt{n}", "title": t} for n, t in enumerate(titles, 1)]}
                    ],
                },
            },
        }
    finally:
        served.close()


def test_a_button_tap_reaches_the_bot_as_its_payload(
    channel: WhatsAppInput, hub: ChannelHub
) -> None:
    long_payload = '/inform{"order_id": "' + "A" * 300 + '"}'
    offered = [
        {"title": "Sí", "payload": "/affirm"},
        {"title": "Ese pedido", "payload": long_payload},
    ]
    served = serve(channel, lambda _m: [{"text": "¿Cuál?", "buttons": offered}])
    try:
        body = fresh("button_reply.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (tap,) = served.bot.wait_for(1)
        assert tap.text == "cancel-button"
        assert tap.metadata["kind"] == "button"
        assert (
            tap.metadata["reply_to"] == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGMzEyNzhENTZDMzNGODlDRDgA"
        )
        wait_records(hub, CUSTOMER, 1)

        def key_tap(data: dict[str, Any]) -> None:
            message = data["entry"][0]["changes"][0]["value"]["messages"][0]
            message["id"] = "wamid.KEYTAP"
            message["interactive"]["button_reply"] = {"id": "#2", "title": "Ese pedido"}

        second = fresh("button_reply.json", key_tap)
        served.post(WEBHOOK, content=second, headers=sign(second))
        assert served.bot.wait_for(2)[1].text == long_payload
    finally:
        served.close()


def test_a_5000_character_reply_goes_as_two_texts(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    long_text = ("Una oración de prueba para el límite. " * 132).strip()
    assert len(long_text) > 4096
    served = serve(channel, lambda _m: [{"text": long_text}])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        first, second = provider.wait_for("POST", MESSAGES, count=2)
        texts = [first.json()["text"]["body"], second.json()["text"]["body"]]
        assert all(len(t) <= 4096 for t in texts)
        assert " ".join(texts) == long_text
        assert [r.status for r in wait_records(hub, CUSTOMER, 2)] == [DeliveryStatus.SENT] * 2
    finally:
        served.close()


def test_a_long_text_with_buttons_goes_ahead_as_text_and_only_the_buttons_are_retried(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    text = ("Te cuento las opciones que tenés para tu pedido. " * 30).strip()
    served = serve(
        channel, lambda _m: [{"text": text, "buttons": [{"title": "Sí", "payload": "/y"}]}]
    )
    interactive_calls = itertools.count()
    ids = (f"wamid.OUT{n}" for n in itertools.count(1))

    def throttled(request: Recorded) -> tuple:
        if request.json()["type"] == "interactive" and next(interactive_calls) == 0:
            return graph_error(130429, "Rate limit hit")
        return 200, {"messages": [{"id": next(ids)}]}

    provider.route("POST", MESSAGES, throttled)
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        lead, buttons = wait_records(hub, CUSTOMER, 2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and hub.outbox.get(buttons.id).status is not (
            DeliveryStatus.SENT
        ):
            time.sleep(0.02)
        calls = [c.json() for c in provider.calls("POST", MESSAGES)]
        assert [c["type"] for c in calls] == ["text", "interactive", "interactive"]
        assert calls[0]["text"]["body"] + " " + calls[2]["interactive"]["body"]["text"] == text
        assert len(calls[2]["interactive"]["body"]["text"]) <= 1024
        assert (lead.kind, buttons.kind) == ("text", "buttons")
        sent = hub.outbox.get(buttons.id)
        assert (sent.status, sent.provider_id) == (DeliveryStatus.SENT, "wamid.OUT2")
    finally:
        served.close()


def test_images_and_documents_are_sent_by_link(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    hub.customers.record_inbound(
        InboundMessage("whatsapp", CUSTOMER, "wamid.IN", Kind.TEXT, time.time(), text="hola")
    )
    output = channel.get_output_channel()
    assert output is not None

    async def send() -> None:
        await output.send_response(CUSTOMER, {"image": "https://hilo.example/p.jpg"})
        document = {"url": "https://hilo.example/f/abc.pdf", "filename": "factura.pdf"}
        await output.send_response(CUSTOMER, {"custom": {"document": document}})

    asyncio.run(send())
    image, document = (c.json() for c in provider.calls("POST", MESSAGES))
    assert (image["type"], image["image"]) == ("image", {"link": "https://hilo.example/p.jpg"})
    assert document["document"] == {
        "link": "https://hilo.example/f/abc.pdf",
        "filename": "factura.pdf",
    }


# --- window, provider errors, retries ------------------------------------------------------


def wrote_25_hours_ago(hub: ChannelHub) -> None:
    hub.customers.record_inbound(
        InboundMessage(
            "whatsapp", CUSTOMER, "wamid.OLD", Kind.TEXT, time.time() - 25 * 3600, text="hola"
        )
    )


def test_a_closed_window_sends_the_template_once_and_records_the_texts_failed(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    wrote_25_hours_ago(hub)
    output = channel.get_output_channel()
    assert output is not None

    async def send() -> None:
        await output.send_response(CUSTOMER, {"text": "Tu pedido salió hoy."})
        await output.send_response(CUSTOMER, {"text": "Llega el jueves."})

    asyncio.run(send())
    (template,) = provider.calls("POST", MESSAGES)
    assert template.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "template",
        "template": {"name": "hilo_reengagement", "language": {"code": "es_MX"}},
    }
    records = hub.outbox.conversation(CUSTOMER)
    texts = [r for r in records if r.kind == "text"]
    assert [(r.status, r.error_code) for r in texts] == [
        (DeliveryStatus.FAILED, "window_closed")
    ] * 2
    (sent,) = [r for r in records if r.kind == "template"]
    assert sent.status is DeliveryStatus.SENT


def test_without_a_template_nothing_is_sent_and_the_reason_is_recorded(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    graph_ok(provider)
    channel = WhatsAppInput(settings(provider, template_name=""), hub=hub)
    wrote_25_hours_ago(hub)
    output = channel.get_output_channel()
    assert output is not None
    asyncio.run(output.send_response(CUSTOMER, {"text": "¿Seguís ahí?"}))
    assert provider.calls("POST", MESSAGES) == []
    (record,) = hub.outbox.conversation(CUSTOMER)
    assert (record.status, record.error_code) == (DeliveryStatus.FAILED, "window_closed")
    assert record.error_message is not None
    assert "no re-engagement template is configured" in record.error_message


def test_a_graph_error_is_recorded_with_its_code(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    provider.route(
        "POST",
        MESSAGES,
        lambda _r: graph_error(131030, "Recipient phone number not in allowed list"),
    )
    served = ChannelApp([channel])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (record,) = wait_records(hub, CUSTOMER, 1)
        assert (record.status, record.error_code) == (DeliveryStatus.FAILED, "131030")
        assert record.error_message is not None
        assert "not in allowed list" in record.error_message
        assert len(provider.calls("POST", MESSAGES)) == 1  # not retryable
    finally:
        served.close()


def test_a_rate_limit_is_retried_then_sent(
    channel: WhatsAppInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    attempts = itertools.count()

    def once_throttled(_request: Recorded) -> tuple:
        if next(attempts) == 0:
            return graph_error(130429, "Rate limit hit")
        return 200, {"messages": [{"id": "wamid.AFTERRETRY"}]}

    provider.route("POST", MESSAGES, once_throttled)
    served = ChannelApp([channel])
    try:
        body = fresh("text.json")
        served.post(WEBHOOK, content=body, headers=sign(body))
        (record,) = wait_records(hub, CUSTOMER, 1)
        assert (record.status, record.provider_id) == (DeliveryStatus.SENT, "wamid.AFTERRETRY")
        assert len(provider.calls("POST", MESSAGES)) == 2
    finally:
        served.close()
