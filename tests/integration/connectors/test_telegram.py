"""The Telegram channel through the whole core, with python-telegram-bot's real `Bot` sending
to a fake Bot API on 127.0.0.1 (form bodies, multipart uploads, Bot API errors)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from connectors.core import ChannelHub
from connectors.messages import InboundMessage, Kind
from connectors.settings import Secret, TelegramSettings
from connectors.telegram import TelegramInput, main
from tests.support.channel_app import ChannelApp, EchoBot, Reply, echo
from tests.support.fake_provider import FakeProvider, Recorded
from tests.support.telegram_bot_api import (
    HEADERS,
    SECRET,
    TOKEN,
    WEBHOOK,
    BotApi,
    fields,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "telegram"
CHAT = "telegram:1111"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%fake invoice\n" + b"0" * 512


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def api_error(code: int, description: str) -> tuple[int, dict[str, Any]]:
    return code, {"ok": False, "error_code": code, "description": description}


def settings_for(fake: FakeProvider) -> TelegramSettings:
    return TelegramSettings(
        bot_token=Secret(TOKEN), secret_token=Secret(SECRET), api_base_url=fake.url
    )


@pytest.fixture
def api(provider: FakeProvider) -> BotApi:
    return BotApi(provider)


@pytest.fixture
def serve(hub: ChannelHub, provider: FakeProvider) -> Iterator[Callable[..., ChannelApp]]:
    apps: list[ChannelApp] = []

    def start(reply: Reply = echo, settings: TelegramSettings | None = None) -> ChannelApp:
        channel = TelegramInput(settings or settings_for(provider), hub=hub)
        app = ChannelApp([channel], EchoBot(reply=reply))
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.close()


def post(app: ChannelApp, body: bytes | dict[str, Any], headers: dict[str, str] | None = None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.post(
        WEBHOOK,
        content=data,
        headers={"Content-Type": "application/json", **(HEADERS if headers is None else headers)},
    )


def wait_outbound(hub: ChannelHub, conversation_id: str, count: int, status: str = "") -> list:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = hub.outbox.conversation(conversation_id)
        if len(records) >= count and all(
            r.status.value not in ("sending",) and (not status or r.status.value == status)
            for r in records
        ):
            return records
        time.sleep(0.02)
    raise AssertionError(f"expected {count} finished outbound messages")


def callback(data: str, title: str, *, update_id: int, query_id: str) -> dict[str, Any]:
    body = json.loads(fixture("callback_query"))
    body["update_id"] = update_id
    body["callback_query"]["id"] = query_id
    body["callback_query"]["data"] = data
    body["callback_query"]["message"]["reply_markup"] = {
        "inline_keyboard": [[{"text": title, "callback_data": data}]]
    }
    return body


# --- the webhook ---------------------------------------------------------------------------


def test_a_message_reaches_the_bot_and_the_reply_reaches_telegram(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    app = serve()
    reply = post(app, fixture("text_reply"))
    assert reply.status_code == 200
    (message,) = app.bot.wait_for(1)
    assert message.sender_id == CHAT
    assert message.input_channel == "telegram"
    assert message.message_id == "100000007"
    assert message.text == "¿Dónde está mi pedido 10938?"
    assert message.metadata["reply_to"] == "42"
    assert message.metadata["display_name"] == "Alice Doe"
    assert message.metadata["kind"] == "text"
    (sent,) = api.sent()
    assert sent == {"chat_id": "1111", "text": "echo: ¿Dónde está mi pedido 10938?"}
    (record,) = wait_outbound(hub, CHAT, 1)
    assert record.status.value == "sent"
    assert record.provider_id == "500"


def test_start_greets_and_a_repeated_update_is_processed_once(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    app = serve()
    assert post(app, fixture("start_command")).status_code == 200
    assert post(app, fixture("start_command")).status_code == 200
    post(app, fixture("text_reply"))  # a conversation's turns run in order: this one comes last
    app.bot.wait_for(2)
    wait_outbound(hub, CHAT, 2)
    assert app.bot.texts() == ["/greet", "¿Dónde está mi pedido 10938?"]
    assert app.bot.received[0].message_id == "100000001"
    assert len(api.fake.calls("POST", r"/bot[^/]+/sendMessage")) == 2


@pytest.mark.parametrize(
    "headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t-token_2"}], ids=["missing", "wrong"]
)
def test_a_request_without_the_secret_token_is_refused(
    serve: Callable[..., ChannelApp], hub: ChannelHub, headers: dict[str, str]
) -> None:
    app = serve()
    assert post(app, fixture("text_reply"), headers=headers).status_code == 403
    assert hub.inbox.counts() == {}


def test_a_malformed_body_is_a_400(serve: Callable[..., ChannelApp], hub: ChannelHub) -> None:
    app = serve()
    assert post(app, b"{not json").status_code == 400
    assert post(app, {"update_id": 5, "message": {"message_id": 1}}).status_code == 400
    assert hub.inbox.counts() == {}


@pytest.mark.parametrize("name", ["my_chat_member", "group_message"])
def test_other_updates_and_groups_are_acknowledged_and_not_processed(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub, name: str
) -> None:
    app = serve()
    assert post(app, fixture(name)).status_code == 200
    post(app, fixture("text_reply"))  # processed after anything the first could have queued
    (message,) = app.bot.wait_for(1)
    assert message.message_id == "100000007"
    api.sent()
    assert sum(hub.inbox.counts().values()) == 1
    assert [r.path for r in api.fake.requests] == [f"/bot{TOKEN}/sendMessage"]


def test_an_unconfigured_bot_answers_503_naming_the_variables(
    serve: Callable[..., ChannelApp], provider: FakeProvider
) -> None:
    empty = TelegramSettings(bot_token=Secret(""), secret_token=Secret(""), api_base_url="")
    app = serve(settings=empty)
    reply = post(app, fixture("text_reply"))
    assert reply.status_code == 503
    assert reply.json()["set"] == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN"]
    assert app.get("/webhooks/telegram/").json() == {
        "status": "not configured",
        "channel": "telegram",
    }


# --- customers' files, places, edits and contacts --------------------------------------------


def test_a_photo_is_fetched_stored_and_its_caption_reaches_the_bot(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    api.files["AgACAgIAAxkBAAMMZfake-large"] = ("photos/file_7.jpg", JPEG, len(JPEG))
    app = serve()
    post(app, fixture("photo_caption"))
    (message,) = app.bot.wait_for(1)
    assert message.text == "My receipt"
    assert message.metadata["caption"] == "My receipt"
    (media,) = message.metadata["media"]
    assert media["content_type"] == "image/jpeg"
    assert media["url"].endswith(media["name"])
    assert hub.media_store.path(media["name"]).read_bytes() == JPEG
    (get_file,) = api.fake.calls("POST", r"/bot[^/]+/getFile")
    assert fields(get_file) == {"file_id": "AgACAgIAAxkBAAMMZfake-large"}
    assert api.fake.calls("GET", r"/file/bot[^/]+/photos/file_7\.jpg")


def test_a_document_is_stored_with_its_name(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    api.files["BQACAgIAAxkBAAMNZfake-doc"] = ("documents/file_3.pdf", PDF, len(PDF))
    app = serve()
    post(app, fixture("document"))
    (message,) = app.bot.wait_for(1)
    assert message.text == "Invoice attached"
    (media,) = message.metadata["media"]
    assert (media["content_type"], media["filename"]) == ("application/pdf", "invoice.pdf")
    assert hub.media_store.path(media["name"]).read_bytes() == PDF


def test_a_file_over_the_limit_is_refused_politely_without_downloading(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILO_MEDIA_MAX_BYTES", str(1024 * 1024))
    body = json.loads(fixture("document"))
    del body["message"]["document"]["file_size"]  # only getFile tells the size
    api.files["BQACAgIAAxkBAAMNZfake-doc"] = ("documents/big.pdf", PDF, 5 * 1024 * 1024)
    app = serve()
    post(app, body)
    (message,) = app.bot.wait_for(1)  # the caption still reaches the bot, without the file
    assert message.metadata["media"][0]["refused"] == "too_large"
    refusal, _echo = wait_outbound(hub, CHAT, 2)
    assert refusal.source == "system"
    assert "demasiado grande" in refusal.text
    assert api.sent(count=2)[0]["text"] == refusal.text
    assert api.fake.calls("GET", r"/file/.*") == []


def test_a_location_reaches_the_bot_with_its_coordinates(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    app = serve()
    post(app, fixture("location"))
    (message,) = app.bot.wait_for(1)
    assert message.metadata["kind"] == "location"
    assert message.metadata["location"] == {
        "latitude": 52.520008,
        "longitude": 13.404954,
        "name": None,
        "address": None,
    }


def test_an_edited_message_is_a_new_turn_marked_edited(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    app = serve()
    post(app, fixture("start_command"))
    app.bot.wait_for(1)
    edit = json.loads(fixture("edited_message"))
    edit["edited_message"]["text"] = "quiero devolver un pedido"
    del edit["edited_message"]["entities"]
    post(app, edit)
    first, second = app.bot.wait_for(2)
    assert "edited" not in first.metadata
    assert second.metadata["edited"] is True
    assert second.text == "quiero devolver un pedido"
    assert second.message_id == "100000005"


def test_sharing_ones_own_contact_links_the_profile_by_phone(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    hub.customers.record_inbound(
        InboundMessage(
            channel="whatsapp",
            conversation_id="whatsapp:+5215512345678",
            provider_id="wamid.1",
            kind=Kind.TEXT,
            sent_at=time.time(),
            text="hola",
            phone="+5215512345678",
        )
    )
    app = serve()
    post(app, fixture("contact_own"))
    (message,) = app.bot.wait_for(1)
    assert message.metadata["kind"] == "contact"
    whatsapp = hub.customers.profile("whatsapp:+5215512345678")
    telegram = hub.customers.profile(CHAT)
    assert telegram is not None
    assert whatsapp is not None
    assert telegram.id == whatsapp.id
    assert telegram.phone == "+5215512345678"


# --- buttons -------------------------------------------------------------------------------


def test_a_tap_answers_the_callback_query_and_gives_the_bot_the_payload(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    app = serve()
    post(app, fixture("callback_query"))
    (message,) = app.bot.wait_for(1)
    assert message.text == "yes"
    assert message.metadata["kind"] == "button"
    (answer,) = api.fake.wait_for("POST", r"/bot[^/]+/answerCallbackQuery")
    assert fields(answer) == {"callback_query_id": "4382bfdwdsb323b2d9"}


def test_a_failing_answer_callback_query_does_not_stop_the_turn(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    api.fake.route(
        "POST",
        r"/bot[^/]+/answerCallbackQuery",
        lambda _r: api_error(400, "Bad Request: query is too old"),
    )
    app = serve()
    post(app, fixture("callback_query"))
    (message,) = app.bot.wait_for(1)
    assert message.text == "yes"
    assert api.sent()[0]["text"] == "echo: yes"


LONG = '/choose_order{"order_id": "10938", "note": "la entrega de la tarde, por favor"}'


def offer(message: UserMessage) -> list[dict[str, Any]]:
    if message.text.startswith("/choose_order"):
        return [{"text": f"elegiste {message.text}"}]
    return [
        {
            "text": "¿Qué pedido?",
            "buttons": [
                {"title": "El de hoy", "payload": "/affirm"},
                {"title": "El 10938", "payload": LONG},
            ],
        }
    ]


def test_buttons_go_as_an_inline_keyboard_and_a_long_payload_comes_back_by_number(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    assert len(LONG.encode()) > 64
    app = serve(reply=offer)
    post(app, fixture("text_reply"))
    (question,) = api.sent()
    assert question["text"] == "¿Qué pedido?"
    assert json.loads(question["reply_markup"]) == {
        "inline_keyboard": [
            [{"text": "El de hoy", "callback_data": "/affirm"}],
            [{"text": "El 10938", "callback_data": "#2"}],
        ]
    }
    post(app, callback("#2", "El 10938", update_id=100000100, query_id="q-2"))
    messages = app.bot.wait_for(2)
    assert messages[1].text == LONG
    assert api.sent(count=2)[1]["text"] == f"elegiste {LONG}"


# --- sending -------------------------------------------------------------------------------


def test_a_6000_character_reply_is_split_into_two_messages(
    serve: Callable[..., ChannelApp], api: BotApi
) -> None:
    long_text = ("Este es un párrafo de prueba con varias palabras. " * 60).strip()
    long_text = (long_text + " ") * 2
    long_text = long_text[:6000]
    app = serve(reply=lambda _m: [{"text": long_text}])
    post(app, fixture("text_reply"))
    first, second = api.sent(count=2)
    assert len(first["text"]) <= 4096
    assert len(second["text"]) <= 4096
    assert len(first["text"]) + len(second["text"]) >= 5990


def test_a_flood_limit_is_waited_out_and_the_message_sent(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    seen: list[float] = []
    original = api._sent

    def limited(request: Recorded) -> tuple[int, Any]:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        return original(request)

    api.fake.route("POST", rf"/bot{TOKEN}/sendMessage", limited)
    app = serve()
    post(app, fixture("text_reply"))
    (record,) = wait_outbound(hub, CHAT, 1, status="sent")
    assert len(seen) == 2
    assert record.provider_id == "500"


def test_a_customer_who_blocked_the_bot_is_recorded_as_failed_403(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    api.fake.route(
        "POST",
        rf"/bot{TOKEN}/sendMessage",
        lambda _r: api_error(403, "Forbidden: bot was blocked by the user"),
    )
    app = serve()
    post(app, fixture("text_reply"))
    (record,) = wait_outbound(hub, CHAT, 1, status="failed")
    assert record.error_code == "403"
    assert record.error_message == "Forbidden: bot was blocked by the user"
    assert len(api.fake.calls("POST", r"/bot[^/]+/sendMessage")) == 1  # not retried


def test_an_invoice_from_hilos_media_store_is_uploaded(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    stored = hub.media_store.put(PDF, "pdf")
    app = serve(
        reply=lambda _m: [
            {"text": "Tu factura:"},
            {"custom": {"document": {"url": stored.url, "filename": "factura-10938.pdf"}}},
        ]
    )
    post(app, fixture("text_reply"))
    (upload,) = api.fake.wait_for("POST", rf"/bot{TOKEN}/sendDocument")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    body = fields(upload)
    assert body["chat_id"] == "1111"
    assert body["document"] == ("factura-10938.pdf", PDF)
    records = wait_outbound(hub, CHAT, 2, status="sent")
    assert [r.kind for r in records] == ["text", "document"]


def test_an_agent_reply_a_day_later_still_goes_because_telegram_has_no_window(
    serve: Callable[..., ChannelApp], api: BotApi, hub: ChannelHub
) -> None:
    app = serve()
    hub.customers.record_inbound(
        InboundMessage(
            channel="telegram",
            conversation_id=CHAT,
            provider_id="1",
            kind=Kind.TEXT,
            sent_at=time.time() - 25 * 3600,
            text="hola",
        )
    )
    output = app.channels[0].get_output_channel()
    assert output is not None
    asyncio.run(output.send_response(CHAT, {"text": "Hola, soy Ana del equipo", "source": "agent"}))
    (sent,) = api.sent()
    assert sent["text"] == "Hola, soy Ana del equipo"
    (record,) = wait_outbound(hub, CHAT, 1, status="sent")
    assert record.source == "agent"


# --- the webhook command -------------------------------------------------------------------


def command_env(monkeypatch: pytest.MonkeyPatch, fake: FakeProvider) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example/")


def test_set_webhook_registers_hilos_url_with_the_secret(
    api: BotApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command_env(monkeypatch, api.fake)
    assert main(["set-webhook"]) == 0
    (request,) = api.fake.calls("POST", rf"/bot{TOKEN}/setWebhook")
    body = fields(request)
    assert body["url"] == "https://hilo.example/webhooks/telegram/webhook"
    assert body["secret_token"] == SECRET
    assert json.loads(body["allowed_updates"]) == ["message", "edited_message", "callback_query"]
    out = capsys.readouterr()
    assert out.out.startswith("setWebhook for @test_bot: ok")
    assert TOKEN not in out.out + out.err
    assert main(["set-webhook", "--url", "https://other.example/hook"]) == 0
    assert fields(api.fake.calls("POST", rf"/bot{TOKEN}/setWebhook")[1])["url"] == (
        "https://other.example/hook"
    )


def test_webhook_info_shows_pending_updates_and_the_last_error(
    api: BotApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command_env(monkeypatch, api.fake)
    assert main(["webhook-info"]) == 0
    out = capsys.readouterr().out
    assert "pending_update_count: 3" in out
    assert "last_error_message: Wrong response from the webhook: 503 Service Unavailable" in out


def test_the_command_says_what_to_set_when_unconfigured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    assert main(["set-webhook"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_the_command_reports_a_refused_token(
    provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.route(
        "POST",
        r"/bot[^/]+/getMe",
        lambda _r: api_error(401, "Unauthorized"),
    )
    command_env(monkeypatch, provider)
    assert main(["webhook-info"]) == 1
    err = capsys.readouterr().err
    assert "InvalidToken" in err
    assert TOKEN not in err  # PTB's own message names the token
