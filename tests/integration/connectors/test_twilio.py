"""The Twilio channel end to end: signed webhooks in, the real twilio library out to a fake API.

Every webhook is signed for `HILO_PUBLIC_URL` (https://hilo.example.com) while the server is
reached at 127.0.0.1, as behind a proxy.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from connectors.core import ChannelHub
from connectors.errors import MediaError, SendError
from connectors.messages import InboundMessage, Kind, MediaRef, OutboundPart
from connectors.outbox import OutboundRecord
from connectors.settings import Secret, TwilioSettings
from connectors.twilio import TwilioInput, TwilioSender
from tests.support.channel_app import ChannelApp, EchoBot
from tests.support.fake_provider import FakeProvider, Recorded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "twilio"
SID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
TOKEN = "test_auth_token_12345"
PUBLIC = "https://hilo.example.com"
WEBHOOK = "/webhooks/twilio/webhook"
STATUS = "/webhooks/twilio/status"
MESSAGES = rf"/2010-04-01/Accounts/{SID}/Messages\.json"
WA = "twilio:whatsapp:+15551234567"
SMS = "twilio:sms:+15551234567"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
ERROR_63016 = {
    "code": 63016,
    "message": (
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template."
    ),
    "more_info": "https://www.twilio.com/docs/errors/63016",
    "status": 400,
}


def settings(provider: FakeProvider, **overrides: str) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": SID,
        "auth_token": Secret(TOKEN),
        "whatsapp_from": "whatsapp:+14155238886",
        "sms_from": "+15005550006",
        "api_base_url": provider.url,
        "template_content_sid": "HXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "public_url": PUBLIC,
        # Twilio's CDN, faked on another host name than its API
        "media_base_url": provider.url.replace("127.0.0.1", "localhost"),
    }
    values.update(overrides)
    return TwilioSettings(**values)


def created(provider: FakeProvider) -> None:
    """Messages.json answers 201 with the Message resource (spec §1.4), a new sid each time."""
    counter = itertools.count(1)

    def handler(request: Recorded) -> tuple[int, dict[str, Any]]:
        fields = {key: values[0] for key, values in request.form().items()}
        sid = f"SM{next(counter):032x}"
        return 201, {
            "account_sid": SID,
            "api_version": "2010-04-01",
            "body": fields.get("Body", ""),
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": None,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{SID}/Messages/{sid}/Media.json"},
            "to": fields.get("To"),
            "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json",
        }

    provider.route("POST", MESSAGES, handler)


@pytest.fixture
def channel(hub: ChannelHub, provider: FakeProvider) -> TwilioInput:
    created(provider)
    return TwilioInput(settings(provider), hub=hub)


def serve(channel: TwilioInput, bot: EchoBot | None = None) -> ChannelApp:
    return ChannelApp([channel], bot or EchoBot())


@pytest.fixture
def app(channel: TwilioInput) -> Iterator[ChannelApp]:
    served = serve(channel)
    yield served
    served.close()


def body(name: str, **changes: str) -> str:
    """A fixture form with some fields changed (re-encoded, so re-signed by `post`)."""
    raw = (FIXTURES / f"{name}.txt").read_text()
    if not changes:
        return raw
    fields = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
    fields.update(changes)
    return urlencode(fields)


def sign(url: str, form_body: str, token: str = TOKEN) -> str:
    """What Twilio puts in X-Twilio-Signature (its own library; fixtures have no repeated keys)."""
    params = {key: values[0] for key, values in parse_qs(form_body, keep_blank_values=True).items()}
    return str(RequestValidator(token).compute_signature(url, params))


def post(
    app: ChannelApp,
    form_body: str,
    path: str = WEBHOOK,
    *,
    signed_for: str | None = None,
    signature: str | None = None,
) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    url = signed_for or PUBLIC + path
    headers["X-Twilio-Signature"] = signature if signature is not None else sign(url, form_body)
    return app.post(path, content=form_body.encode(), headers=headers)


def wait_outbound(
    hub: ChannelHub, conversation: str, count: int, *, settled: bool = True
) -> list[OutboundRecord]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = hub.outbox.conversation(conversation)
        done = [r for r in records if not settled or r.status.value != "sending"]
        if len(done) >= count:
            return records
        time.sleep(0.02)
    raise AssertionError(f"expected {count} outbound messages for the conversation")


def fields(request: Recorded) -> dict[str, str]:
    return {key: values[0] for key, values in request.form().items()}


def basic() -> str:
    return "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


def say(channel: TwilioInput, conversation: str, *messages: dict[str, Any]) -> None:
    """Sends responses as the desk does (no inbound message), on a loop of this thread."""

    async def run() -> None:
        output = channel.get_output_channel()
        assert output is not None
        try:
            for message in messages:
                await output.send_response(conversation, message)
        finally:
            await sender_of(channel).aclose()

    asyncio.run(run())


def sender_of(channel: TwilioInput) -> TwilioSender:
    assert isinstance(channel.sender, TwilioSender)
    return channel.sender


def wrote_hours_ago(hub: ChannelHub, conversation: str, hours: float) -> None:
    hub.customers.record_inbound(
        InboundMessage(
            channel="twilio",
            conversation_id=conversation,
            provider_id="SMold",
            kind=Kind.TEXT,
            sent_at=time.time() - hours * 3600,
            text="hola",
            phone="+15551234567",
        )
    )


# --- inbound and the reply -------------------------------------------------------------


def test_a_text_reaches_the_bot_and_the_reply_reaches_twilio(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    reply = post(app, body("text"))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    assert reply.text == TWIML
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == WA
    assert message.input_channel == "twilio"
    assert message.message_id == "SM1234567890abcdef1234567890abcdef"
    assert message.text == "Hello there"
    assert message.metadata["display_name"] == "Alice"
    assert message.metadata["channel"] == "twilio"
    (sent,) = provider.wait_for("POST", MESSAGES)
    assert sent.headers["authorization"] == basic()
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert fields(sent) == {
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+15551234567",
        "Body": "echo: Hello there",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio/status",
    }
    (record,) = wait_outbound(hub, WA, 1)
    assert record.status.value == "sent"
    assert record.provider_id == f"SM{1:032x}"
    profile = hub.customers.profile(WA)
    assert profile is not None
    assert profile.phone == "+15551234567"


def test_an_sms_is_answered_from_the_sms_number(app: ChannelApp, provider: FakeProvider) -> None:
    assert post(app, body("sms")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == SMS
    assert message.text == "Hola, ¿mi pedido?"
    (sent,) = provider.wait_for("POST", MESSAGES)
    assert fields(sent)["From"] == "+15005550006"
    assert fields(sent)["To"] == "+15551234567"


def test_a_repeated_delivery_is_processed_once(app: ChannelApp, provider: FakeProvider) -> None:
    assert post(app, body("text")).status_code == 200
    assert post(app, body("text")).status_code == 200
    later = body("text", MessageSid="SM" + "b" * 32, Body="second")
    assert post(app, later).status_code == 200
    # One conversation is processed in order: a processed repeat would come before "second".
    app.bot.wait_for(2)
    assert app.bot.texts() == ["Hello there", "second"]
    provider.wait_for("POST", MESSAGES, count=2)


def test_a_photo_is_fetched_with_the_account_key_and_stored(
    app: ChannelApp, hub: ChannelHub, provider: FakeProvider
) -> None:
    storage = provider.url.replace("127.0.0.1", "localhost") + "/storage/ME5f0a"
    provider.route(
        "GET",
        rf"/2010-04-01/Accounts/{SID}/Messages/MM21151abfaadc1fb79b782f8460862a52/Media/\w+",
        lambda request: (307, b"", {"Location": storage}),
    )
    provider.route("GET", r"/storage/\w+", lambda r: (200, PNG, {"Content-Type": "image/png"}))
    assert post(app, body("image")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "My receipt"
    assert message.metadata["kind"] == "media"
    (media,) = message.metadata["media"]
    assert media["content_type"] == "image/png"
    assert media["refused"] is None
    assert hub.media_store.path(media["name"]).read_bytes() == PNG
    assert media["url"].endswith(media["name"])
    (fetch,) = provider.calls("GET", r"/2010-04-01/.*/Media/\w+")
    assert fetch.headers["authorization"] == basic()
    (stored,) = provider.calls("GET", r"/storage/\w+")
    assert "authorization" not in stored.headers  # not sent on to another host


def test_a_location_with_an_empty_body_verifies_and_reaches_the_bot(app: ChannelApp) -> None:
    assert post(app, body("location")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == "twilio:whatsapp:+15555550101"
    assert message.metadata["kind"] == "location"
    assert message.metadata["location"] == {
        "latitude": 25.018766403198,
        "longitude": -77.395950317383,
        "name": None,
        "address": None,
    }
    assert message.text == "/send_media"


def test_a_button_tap_reaches_the_bot_as_its_payload(app: ChannelApp) -> None:
    assert post(app, body("button")).status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.text == "/affirm"
    assert message.metadata["kind"] == "button"
    assert message.metadata["caption"] == "Sí, seguir"
    assert message.metadata["reply_to"] == "SMf0e1d2c3b4a5968778695a4b3c2d1e0f"


def test_buttons_go_as_a_numbered_list_and_a_typed_number_is_the_payload(
    channel: TwilioInput, provider: FakeProvider
) -> None:
    def reply(message: UserMessage) -> list[dict[str, Any]]:
        if message.text.startswith("/"):
            return [{"text": f"chose {message.text}"}]
        buttons = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
        return [{"text": "¿Seguimos?", "buttons": buttons}]

    served = serve(channel, EchoBot(reply=reply))
    try:
        post(served, body("text"))
        post(served, body("text", MessageSid="SM" + "2" * 32, Body="2"))
        first, second = provider.wait_for("POST", MESSAGES, count=2)
        assert fields(first)["Body"] == "¿Seguimos?\n\n1. Sí\n2. No"
        assert fields(second)["Body"] == "chose /deny"
        assert served.bot.texts() == ["Hello there", "/deny"]
    finally:
        served.close()


def test_a_long_reply_is_split_at_1600(channel: TwilioInput, provider: FakeProvider) -> None:
    text = ("Esta es una frase de prueba bastante larga. " * 50)[:2000]
    served = serve(channel, EchoBot(reply=lambda message: [{"text": text}]))
    try:
        post(served, body("text"))
        first, second = provider.wait_for("POST", MESSAGES, count=2)
        bodies = [fields(first)["Body"], fields(second)["Body"]]
        assert all(len(piece) <= 1600 for piece in bodies)
        assert " ".join(bodies).split() == text.split()
    finally:
        served.close()


# --- refusals ----------------------------------------------------------------------------


def test_a_tampered_body_is_refused(app: ChannelApp) -> None:
    signature = sign(PUBLIC + WEBHOOK, body("text"))
    tampered = body("text").replace("Hello+there", "Hello+thare")
    assert post(app, tampered, signature=signature).status_code == 403
    assert post(app, body("text"), signature="").status_code == 403
    assert app.post(WEBHOOK, content=body("text").encode()).status_code == 403


def test_a_signature_for_another_host_is_refused(app: ChannelApp) -> None:
    evil = "https://evil.example.com" + WEBHOOK
    assert post(app, body("text"), signed_for=evil).status_code == 403


def test_behind_a_proxy_the_public_url_is_what_counts(app: ChannelApp) -> None:
    # Signed for the URL the server sees (127.0.0.1): not what Twilio called, so refused.
    assert post(app, body("text"), signed_for=app.url + WEBHOOK).status_code == 403
    # Signed for HILO_PUBLIC_URL, reached at 127.0.0.1: accepted.
    assert post(app, body("text"), signed_for=PUBLIC + WEBHOOK).status_code == 200
    app.bot.wait_for(1)


def test_a_query_string_is_part_of_the_signed_url(app: ChannelApp) -> None:
    path = WEBHOOK + "?tenant=1"
    assert post(app, body("text"), path, signed_for=PUBLIC + WEBHOOK).status_code == 403
    assert post(app, body("text"), path).status_code == 200
    app.bot.wait_for(1)


def test_a_message_without_sender_is_malformed(app: ChannelApp) -> None:
    raw = "&".join(part for part in body("text").split("&") if not part.startswith("From="))
    reply = post(app, raw)
    assert reply.status_code == 400
    assert "MessageSid or From" in reply.json()["error"]


def test_an_empty_message_type_is_acknowledged_and_not_processed(app: ChannelApp) -> None:
    reaction = body("text", MessageSid="SM" + "e" * 32, Body="", MessageType="reaction")
    assert post(app, reaction).status_code == 200
    assert post(app, body("text")).status_code == 200
    app.bot.wait_for(1)
    assert app.bot.texts() == ["Hello there"]


def test_not_configured_answers_503_naming_the_variables(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    served = serve(TwilioInput(settings(provider, auth_token=Secret("")), hub=hub))
    try:
        for path in (WEBHOOK, STATUS):
            reply = post(served, body("text"), path)
            assert reply.status_code == 503
            assert reply.json()["set"] == ["TWILIO_AUTH_TOKEN"]
    finally:
        served.close()


# --- windows, templates, provider errors -------------------------------------------------


def test_window_closed_sends_the_template_and_records_the_text_refused(
    channel: TwilioInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    wrote_hours_ago(hub, WA, 25)
    say(channel, WA, {"text": "¿Sigues ahí?"})
    (sent,) = provider.calls("POST", MESSAGES)
    assert fields(sent) == {
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+15551234567",
        "ContentSid": "HXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio/status",
    }
    refused, template = hub.outbox.conversation(WA)
    assert (refused.text, refused.status.value, refused.error_code) == (
        "¿Sigues ahí?",
        "failed",
        "window_closed",
    )
    assert (template.kind, template.status.value) == ("template", "sent")


def test_window_closed_without_template_sends_nothing(
    hub: ChannelHub, provider: FakeProvider
) -> None:
    created(provider)
    channel = TwilioInput(settings(provider, template_content_sid=""), hub=hub)
    wrote_hours_ago(hub, WA, 25)
    say(channel, WA, {"text": "¿Sigues ahí?"})
    assert provider.calls("POST", MESSAGES) == []
    (record,) = hub.outbox.conversation(WA)
    assert (record.status.value, record.error_code) == ("failed", "window_closed")


def test_sms_has_no_window(channel: TwilioInput, hub: ChannelHub, provider: FakeProvider) -> None:
    wrote_hours_ago(hub, SMS, 25)
    say(channel, SMS, {"text": "Tu pedido salió hoy"})
    (sent,) = provider.calls("POST", MESSAGES)
    assert fields(sent)["Body"] == "Tu pedido salió hoy"
    assert fields(sent)["From"] == "+15005550006"
    (record,) = hub.outbox.conversation(SMS)
    assert record.status.value == "sent"


def test_a_refusal_is_recorded_with_twilios_code(
    channel: TwilioInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    provider.route("POST", MESSAGES, lambda request: (400, ERROR_63016))
    wrote_hours_ago(hub, WA, 1)
    say(channel, WA, {"text": "Hola"})
    assert len(provider.calls("POST", MESSAGES)) == 1  # not retried
    (record,) = hub.outbox.conversation(WA)
    assert (record.status.value, record.error_code) == ("failed", "63016")
    assert "outside the allowed window" in (record.error_message or "")


def test_a_rate_limit_is_retried(
    channel: TwilioInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    answers = iter([(429, {"code": 20429, "message": "Too Many Requests", "status": 429})])
    ok = provider.routes[0].handler

    def handler(request: Recorded) -> tuple[int, dict[str, Any]]:
        return next(answers, None) or ok(request)

    provider.route("POST", MESSAGES, handler)
    wrote_hours_ago(hub, WA, 1)
    say(channel, WA, {"text": "Hola"})
    first, second = provider.calls("POST", MESSAGES)
    assert fields(first) == fields(second)
    (record,) = hub.outbox.conversation(WA)
    assert record.status.value == "sent"
    assert record.provider_id == f"SM{1:032x}"


async def test_network_errors_are_retryable(provider: FakeProvider) -> None:
    closed = FakeProvider()
    closed.close()
    sender = TwilioSender(settings(provider, api_base_url=closed.url))
    with pytest.raises(SendError) as raised:
        await sender.send(WA, OutboundPart(text="Hola"))
    await sender.aclose()
    assert (raised.value.code, raised.value.retryable) == ("network", True)


def test_one_sender_works_on_the_bot_loop_and_on_another(
    app: ChannelApp, channel: TwilioInput, hub: ChannelHub, provider: FakeProvider
) -> None:
    post(app, body("text"))
    provider.wait_for("POST", MESSAGES)
    say(channel, WA, {"text": "desde el escritorio"}, {"text": "otra vez"})
    sent = provider.wait_for("POST", MESSAGES, count=3)
    assert [fields(request)["Body"] for request in sent] == [
        "echo: Hello there",
        "desde el escritorio",
        "otra vez",
    ]
    assert [record.status.value for record in wait_outbound(hub, WA, 3)] == ["sent"] * 3


# --- status callbacks --------------------------------------------------------------------


def status_body(sid: str, status: str, **extra: str) -> str:
    return body(
        "status_sent", MessageSid=sid, SmsSid=sid, MessageStatus=status, SmsStatus=status, **extra
    )


def test_status_callbacks_move_forward_and_never_back(
    app: ChannelApp, channel: TwilioInput, hub: ChannelHub
) -> None:
    wrote_hours_ago(hub, WA, 1)
    say(channel, WA, {"text": "Hola"})
    (record,) = hub.outbox.conversation(WA)
    sid = record.provider_id
    assert sid
    for status in ("sent", "read", "delivered"):
        reply = post(app, status_body(sid, status), STATUS)
        assert reply.status_code == 200
        assert reply.text == TWIML
    assert hub.outbox.get(record.id).status.value == "read"


def test_an_undelivered_callback_records_the_error(
    app: ChannelApp, channel: TwilioInput, hub: ChannelHub
) -> None:
    wrote_hours_ago(hub, WA, 1)
    say(channel, WA, {"text": "Hola"})
    (record,) = hub.outbox.conversation(WA)
    assert record.provider_id
    undelivered = body(
        "status_undelivered", MessageSid=record.provider_id, SmsSid=record.provider_id
    )
    assert post(app, undelivered, STATUS).status_code == 200
    assert post(app, status_body(record.provider_id, "delivered"), STATUS).status_code == 200
    final = hub.outbox.get(record.id)
    assert (final.status.value, final.error_code) == ("failed", "63016")


def test_status_callbacks_are_verified_and_checked_like_messages(
    app: ChannelApp, channel: TwilioInput, hub: ChannelHub
) -> None:
    wrote_hours_ago(hub, WA, 1)
    say(channel, WA, {"text": "Hola"})
    (record,) = hub.outbox.conversation(WA)
    sid = record.provider_id or ""
    read = status_body(sid, "read")
    # Signed for the message webhook's URL, not the status route's own: refused.
    assert post(app, read, STATUS, signed_for=PUBLIC + WEBHOOK).status_code == 403
    assert post(app, read, STATUS, signature="").status_code == 403
    no_sid = "&".join(p for p in read.split("&") if not p.startswith(("MessageSid=", "SmsSid=")))
    assert post(app, no_sid, STATUS).status_code == 400
    assert post(app, status_body(sid, "queued"), STATUS).status_code == 200
    assert hub.outbox.get(record.id).status.value == "sent"


# --- media limits ------------------------------------------------------------------------


async def test_a_file_over_the_limit_is_refused_while_downloading(
    provider: FakeProvider,
) -> None:
    provider.route("GET", r"/2010-04-01/.*/Media/\w+", lambda r: (200, b"x" * 4096))
    sender = TwilioSender(settings(provider), max_bytes=1024)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1"
    with pytest.raises(MediaError) as raised:
        await sender.fetch_media(MediaRef(provider_ref=url))
    assert raised.value.reason == "too_large"
    (fetch,) = provider.calls("GET", r"/2010-04-01/.*/Media/\w+")
    assert fetch.headers["authorization"] == basic()


def test_each_loop_gets_its_own_client_and_keeps_it(
    channel: TwilioInput, provider: FakeProvider
) -> None:
    sender = sender_of(channel)

    async def twice() -> tuple[Any, Any]:
        first = await sender.send(WA, OutboundPart(text="uno"))
        client = sender._client()
        second = await sender.send(WA, OutboundPart(text="dos"))
        assert sender._client() is client  # one session per loop, not one per call
        assert first != second
        return client, client.http_client.session

    client_a, session_a = asyncio.run(twice())  # left open: its loop is gone
    client_b, session_b = asyncio.run(twice())  # a new loop (maybe with the old one's id)
    assert client_b is not client_a
    assert session_b is not session_a
    asyncio.run(sender.aclose())
    assert [fields(r)["Body"] for r in provider.calls("POST", MESSAGES)] == ["uno", "dos"] * 2
