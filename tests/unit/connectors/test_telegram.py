"""Telegram: updates parsed into messages, the secret check, and parts rendered into the exact
Bot API requests python-telegram-bot sends (against a fake Bot API on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from connectors.errors import MediaError, PayloadError, SendError, SignatureError
from connectors.messages import Button, InboundMessage, Kind, Location, MediaRef, OutboundPart
from connectors.settings import Secret, TelegramSettings
from connectors.telegram import (
    TOKEN_IN_URL,
    Batch,
    TelegramInput,
    TelegramSender,
    _RedactToken,
    batch_from_body,
    callback_data,
    chat_id_of,
    check_secret,
    keyboard,
    map_error,
)
from connectors.windows import Window, WindowRules
from tests.support.fake_provider import FakeProvider, Recorded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "telegram"
TOKEN = "123456789:TEST-token"
NOW = 1_700_009_999.0


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(name: str) -> Batch:
    return batch_from_body(fixture(name), now=NOW)


def only(name: str) -> InboundMessage:
    batch = parse(name)
    assert batch.ignored == []
    (message,) = batch.messages
    return message


# --- parsing -----------------------------------------------------------------------------


def test_start_with_a_deep_link_reaches_the_bot_as_a_greeting() -> None:
    message = only("start_command")
    assert message.channel == "telegram"
    assert message.conversation_id == "telegram:1111"
    assert message.provider_id == "100000001"
    assert message.kind is Kind.TEXT
    assert message.text == "/start hello"
    assert message.payload == "/greet"
    assert message.nlu_text() == "/greet"
    assert message.extra == {"message_id": 11, "command": "start", "start_parameter": "hello"}
    assert message.display_name == "Alice Doe"
    assert message.sent_at == 1700000000.0
    assert message.edited is False


def test_a_text_reply_quotes_the_message_it_answers() -> None:
    message = only("text_reply")
    assert message.kind is Kind.TEXT
    assert message.text == "¿Dónde está mi pedido 10938?"
    assert message.payload is None
    assert message.reply_to == "42"
    assert message.sent_at == 1700000050.0


def test_a_photo_keeps_its_largest_size_and_the_caption() -> None:
    message = only("photo_caption")
    assert message.kind is Kind.MEDIA
    assert message.text == "My receipt"
    assert message.media == (
        MediaRef("AgACAgIAAxkBAAMMZfake-large", content_type="image/jpeg", size=98765),
    )
    assert message.display_name == "Alice"


def test_a_document_keeps_type_name_and_size() -> None:
    message = only("document")
    assert message.kind is Kind.MEDIA
    assert message.text == "Invoice attached"
    assert message.media == (
        MediaRef(
            "BQACAgIAAxkBAAMNZfake-doc",
            content_type="application/pdf",
            filename="invoice.pdf",
            size=45231,
        ),
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("voice", MediaRef("AwACAgIAAxkBAAMTZfake-voice", content_type="audio/ogg", size=7321)),
        (
            "sticker",
            MediaRef("CAACAgIAAxkBAAMUZfake-sticker", content_type="image/webp", size=18432),
        ),
    ],
)
def test_voice_notes_and_stickers_are_media_with_their_types(name: str, expected: MediaRef) -> None:
    message = only(name)
    assert message.kind is Kind.MEDIA
    assert message.media == (expected,)
    assert message.nlu_text() == "/send_media"


def test_a_location() -> None:
    message = only("location")
    assert message.kind is Kind.LOCATION
    assert message.location == Location(52.520008, 13.404954)
    assert message.text == ""


def test_a_venue_is_a_location_with_name_and_address() -> None:
    message = only("venue")
    assert message.kind is Kind.LOCATION
    assert message.location == Location(
        19.432608, -99.133209, name="Tienda Centro", address="Av. Juárez 10, Centro, CDMX"
    )
    assert message.nlu_text() == "Av. Juárez 10, Centro, CDMX"


def test_the_customers_own_contact_gives_their_phone_in_e164() -> None:
    message = only("contact_own")
    assert message.kind is Kind.CONTACT
    assert message.phone == "+5215512345678"
    assert message.extra["contact"]["user_id"] == 1111
    assert message.nlu_text() == "+5215512345678"  # the number the bot asked for


def test_somebody_elses_contact_does_not_become_the_customers_phone() -> None:
    message = only("contact_other")
    assert message.kind is Kind.CONTACT
    assert message.phone is None
    assert message.extra["contact"]["phone_number"] == "+52 55 9876 5432"
    assert message.nlu_text() == "/send_media"


def test_an_edit_is_the_customers_corrected_words_at_the_edit_time() -> None:
    message = only("edited_message")
    assert message.provider_id == "100000005"
    assert message.edited is True
    assert message.text == "/start hello again"
    assert message.sent_at == 1700000100.0


def test_a_button_tap_carries_the_payload_the_title_and_the_query_id() -> None:
    message = only("callback_query")
    assert message.kind is Kind.BUTTON
    assert message.conversation_id == "telegram:1111"
    assert message.provider_id == "100000006"
    assert message.payload == "yes"
    assert message.text == "Yes"
    assert message.extra == {"callback_query_id": "4382bfdwdsb323b2d9"}
    assert message.sent_at == NOW
    assert message.display_name == "Alice"


def test_a_tap_on_a_keyboard_without_that_button_keeps_the_data_as_words() -> None:
    data = json.loads(fixture("callback_query"))
    data["callback_query"]["data"] = "maybe"
    (message,) = batch_from_body(json.dumps(data).encode(), now=NOW).messages
    assert (message.payload, message.text) == ("maybe", "maybe")
    data["callback_query"]["data"] = "#3"
    (message,) = batch_from_body(json.dumps(data).encode(), now=NOW).messages
    assert (message.payload, message.text) == ("#3", "")


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("group_message", ["group_message"]),
        ("my_chat_member", ["my_chat_member"]),
        ("dice", ["message.unsupported"]),
        ("edited_live_location", ["edited_message.location"]),
    ],
)
def test_what_is_not_a_private_customer_message_is_ignored_by_type(
    name: str, ignored: list[str]
) -> None:
    batch = parse(name)
    assert batch.messages == []
    assert batch.ignored == ignored


def test_taps_in_groups_and_inline_mode_are_ignored() -> None:
    data = json.loads(fixture("callback_query"))
    data["callback_query"]["message"]["chat"] = {"id": -100123, "type": "group", "title": "x"}
    assert batch_from_body(json.dumps(data).encode()).ignored == ["group_message"]
    inline = json.loads(fixture("callback_query"))
    del inline["callback_query"]["message"]
    inline["callback_query"]["inline_message_id"] = "AAAA"
    assert batch_from_body(json.dumps(inline).encode()).ignored == ["callback_query.inline"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b"{}",
        b'{"update_id": true, "message": {}}',
        b'{"update_id": "1"}',
        b'{"update_id": 1, "message": {"message_id": 1}}',
        b'{"update_id": 1, "message": "hola"}',
    ],
)
def test_bodies_that_are_not_updates_are_payload_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        batch_from_body(body)


# --- the secret token --------------------------------------------------------------------


def test_the_secret_token_must_match_exactly() -> None:
    check_secret("s3cr3t-token_1", "s3cr3t-token_1")
    for received in (None, "", "s3cr3t-token_2", "s3cr3t-token_1 ", "ñ"):
        with pytest.raises(SignatureError):
            check_secret(received, "s3cr3t-token_1")
    with pytest.raises(SignatureError):
        check_secret("anything", "")


# --- rendering ---------------------------------------------------------------------------


def test_callback_data_is_the_payload_up_to_64_utf8_bytes_else_a_key() -> None:
    assert callback_data(1, "/affirm") == "/affirm"
    assert callback_data(2, "x" * 64) == "x" * 64
    assert callback_data(2, "x" * 65) == "#2"
    assert callback_data(3, "é" * 33) == "#3"  # 33 characters, 66 bytes
    assert callback_data(4, "") == "#4"


def test_the_keyboard_has_one_button_per_row() -> None:
    markup = keyboard((Button("Sí", "/affirm"), Button("Ver pedido", "/x" + "y" * 80)))
    assert markup is not None
    assert markup.to_dict() == {
        "inline_keyboard": [
            [{"text": "Sí", "callback_data": "/affirm"}],
            [{"text": "Ver pedido", "callback_data": "#2"}],
        ]
    }
    assert keyboard(()) is None


@pytest.mark.parametrize(
    ("error", "code", "retryable", "retry_after"),
    [
        (RetryAfter(3), "429", True, 3.0),
        (Forbidden("Forbidden: bot was blocked by the user"), "403", False, None),
        (InvalidToken("Unauthorized"), "401", False, None),
        (BadRequest("Bad Request: chat not found"), "400", False, None),
        (ChatMigrated(-100123), "400", False, None),
        (TimedOut(), "network", True, None),
        (NetworkError("Bad Gateway"), "network", True, None),
        (TelegramError("Invalid server response"), "telegram", False, None),
    ],
)
def test_bot_api_errors_become_send_errors(
    error: TelegramError, code: str, retryable: bool, retry_after: float | None
) -> None:
    mapped = map_error(error)
    assert (mapped.code, mapped.retryable, mapped.retry_after) == (code, retryable, retry_after)
    assert mapped.message


def test_forbidden_keeps_telegrams_reason() -> None:
    assert map_error(Forbidden("Forbidden: bot was blocked by the user")).message == (
        "Forbidden: bot was blocked by the user"
    )


def test_error_messages_never_carry_the_token() -> None:
    error = InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    assert TOKEN not in map_error(error, TOKEN).message
    assert TOKEN not in map_error(error).message
    assert map_error(error).message == "The token `<token>` was rejected by the server."


def test_conversation_ids_name_a_chat() -> None:
    assert chat_id_of("telegram:1111") == 1111
    assert chat_id_of("telegram:-1001234567890") == -1001234567890
    for bad in ("whatsapp:+5215512345678", "telegram:", "telegram:12a", "1111"):
        with pytest.raises(SendError) as raised:
            chat_id_of(bad)
        assert raised.value.code == "invalid_recipient"


def test_telegram_has_no_window_and_no_template() -> None:
    settings = TelegramSettings(
        bot_token=Secret(TOKEN), secret_token=Secret("s3cr3t"), api_base_url="http://x"
    )
    rules = TelegramSender(settings, max_bytes=1).window_rules("telegram:1111")
    assert rules == WindowRules(Window.NONE, template_configured=False)
    assert rules.decide(None, 1_800_000_000.0, from_agent=False).send  # never wrote: still free


def test_the_bot_token_never_reaches_the_logs() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s"',
        ("POST", f"https://api.telegram.org/bot{TOKEN}/sendMessage", "HTTP/1.1 200 OK"),
        None,
    )
    assert _RedactToken().filter(record) is True
    assert record.getMessage() == (
        'HTTP Request: POST https://api.telegram.org/bot<token>/sendMessage "HTTP/1.1 200 OK"'
    )
    assert TOKEN_IN_URL.search("/file/bot123456789%3ATEST-token/photos/a.jpg")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    unset = TelegramInput.from_credentials(None)
    assert unset.configured is False
    assert unset.missing == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN"]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "s3cr3t")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/")
    channel = TelegramInput.from_credentials({})
    assert channel.configured is True
    assert channel.settings.api_base_url == "http://127.0.0.1:9"
    assert TOKEN not in repr(channel.settings)
    assert channel.name() == "telegram"


# --- what the Bot API receives --------------------------------------------------------------


def ok_message(message_id: int) -> dict[str, Any]:
    return {
        "ok": True,
        "result": {
            "message_id": message_id,
            "from": {"id": 123456789, "is_bot": True, "first_name": "TestBot"},
            "chat": {"id": 1111, "first_name": "Alice", "type": "private"},
            "date": 1700000000,
        },
    }


@pytest.fixture
def bot_api() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    counter = iter(range(500, 10_000))
    for method in ("sendMessage", "sendPhoto", "sendDocument"):
        fake.route("POST", rf"/bot[^/]+/{method}", lambda _r: (200, ok_message(next(counter))))
    yield fake
    fake.close()


def sender_for(fake: FakeProvider) -> TelegramSender:
    settings = TelegramSettings(
        bot_token=Secret(TOKEN), secret_token=Secret("s3cr3t"), api_base_url=fake.url
    )
    return TelegramSender(settings, max_bytes=1024)


def send(fake: FakeProvider, part: OutboundPart) -> str | None:
    return asyncio.run(sender_for(fake).send("telegram:1111", part))


def form(request: Recorded) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {key: values[0] for key, values in request.form().items()}


def test_text_with_buttons_is_one_send_message_with_an_inline_keyboard(
    bot_api: FakeProvider,
) -> None:
    part = OutboundPart(
        text="¿Confirmas?", buttons=(Button("Sí", "/affirm"), Button("No", "/deny"))
    )
    assert send(bot_api, part) == "500"
    (request,) = bot_api.calls("POST", rf"/bot{TOKEN}/sendMessage")
    body = form(request)
    assert body["chat_id"] == "1111"
    assert body["text"] == "¿Confirmas?"
    assert json.loads(body["reply_markup"]) == {
        "inline_keyboard": [
            [{"text": "Sí", "callback_data": "/affirm"}],
            [{"text": "No", "callback_data": "/deny"}],
        ]
    }


def test_buttons_without_text_still_say_what_they_offer(bot_api: FakeProvider) -> None:
    send(bot_api, OutboundPart(buttons=(Button("Sí", "/affirm"),)))
    (request,) = bot_api.calls("POST", r"/bot[^/]+/sendMessage")
    assert form(request)["text"] == "1. Sí"


def test_an_image_url_is_passed_to_telegram_with_its_caption(bot_api: FakeProvider) -> None:
    send(bot_api, OutboundPart(text="Tu pedido", image_url="https://cdn.example/p.jpg"))
    (request,) = bot_api.calls("POST", r"/bot[^/]+/sendPhoto")
    assert form(request) == {
        "chat_id": "1111",
        "photo": "https://cdn.example/p.jpg",
        "caption": "Tu pedido",
    }


def test_a_caption_over_1024_characters_goes_as_a_separate_text(bot_api: FakeProvider) -> None:
    text = "palabra " * 200
    buttons = (Button("Sí", "/affirm"),)
    part = OutboundPart(text=text, image_url="https://cdn.example/p.jpg", buttons=buttons)
    assert send(bot_api, part) == "500"
    (photo,) = bot_api.calls("POST", r"/bot[^/]+/sendPhoto")
    assert form(photo) == {"chat_id": "1111", "photo": "https://cdn.example/p.jpg"}
    (message,) = bot_api.calls("POST", r"/bot[^/]+/sendMessage")
    assert form(message)["text"] == text
    assert "reply_markup" in form(message)


def test_a_remote_document_keeps_its_url(bot_api: FakeProvider) -> None:
    send(bot_api, OutboundPart(document_url="https://cdn.example/f.pdf", filename="f.pdf"))
    (request,) = bot_api.calls("POST", r"/bot[^/]+/sendDocument")
    assert form(request) == {"chat_id": "1111", "document": "https://cdn.example/f.pdf"}


@pytest.mark.parametrize(
    ("part", "code"),
    [
        (OutboundPart(image_url="/etc/passwd"), "invalid_url"),
        (OutboundPart(document_url="file:///etc/passwd"), "invalid_url"),
        (OutboundPart(template=True), "unsupported"),
        (OutboundPart(), "empty"),
    ],
)
def test_parts_that_cannot_go_fail_without_calling_telegram(
    bot_api: FakeProvider, part: OutboundPart, code: str
) -> None:
    with pytest.raises(SendError) as raised:
        send(bot_api, part)
    assert raised.value.code == code
    assert bot_api.requests == []


def test_a_hilo_media_link_to_a_missing_file_is_not_sent(
    bot_api: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example")
    monkeypatch.setenv("HILO_MEDIA_DIR", str(tmp_path))
    part = OutboundPart(
        document_url="https://hilo.example/webhooks/media/files/" + "a" * 30 + ".pdf"
    )
    with pytest.raises(SendError) as raised:
        send(bot_api, part)
    assert raised.value.code == "media_not_found"
    assert bot_api.requests == []


def test_a_429_from_the_bot_api_asks_for_telegrams_wait(bot_api: FakeProvider) -> None:
    bot_api.route(
        "POST",
        r"/bot[^/]+/sendMessage",
        lambda _r: (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        ),
    )
    with pytest.raises(SendError) as raised:
        send(bot_api, OutboundPart(text="hola"))
    assert (raised.value.code, raised.value.retryable, raised.value.retry_after) == (
        "429",
        True,
        7.0,
    )


def fetch(fake: FakeProvider, media: MediaRef) -> tuple[bytes, str]:
    return asyncio.run(sender_for(fake).fetch_media(media))


def get_file_answers(fake: FakeProvider, status: int, body: dict[str, Any]) -> None:
    fake.route("POST", r"/bot[^/]+/getFile", lambda _r: (status, body))


def test_fetching_media_downloads_the_file_telegram_names(bot_api: FakeProvider) -> None:
    result = {"file_id": "F", "file_unique_id": "U", "file_size": 3, "file_path": "voice/f.oga"}
    get_file_answers(bot_api, 200, {"ok": True, "result": result})
    bot_api.route("GET", r"/file/bot[^/]+/voice/f\.oga", lambda _r: (200, b"Ogg"))
    assert fetch(bot_api, MediaRef("F", content_type="audio/ogg")) == (b"Ogg", "audio/ogg")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, {"ok": True, "result": {"file_id": "F", "file_unique_id": "U", "file_size": 2048,
                                      "file_path": "a/b.jpg"}}, "too_large"),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"},
         "too_large"),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: wrong file_id"},
         "download"),
        (200, {"ok": True, "result": {"file_id": "F", "file_unique_id": "U"}}, "download"),
        (200, {"ok": True, "result": {"file_id": "F", "file_unique_id": "U",
                                      "file_path": __file__}}, "download"),
    ],
    ids=["over-max-bytes", "over-20-mb", "unknown-file", "no-path", "local-path"],
)  # fmt: skip
def test_media_that_cannot_be_fetched_says_why(
    bot_api: FakeProvider, status: int, body: dict[str, Any], reason: str
) -> None:
    get_file_answers(bot_api, status, body)
    with pytest.raises(MediaError) as raised:
        fetch(bot_api, MediaRef("F", content_type="image/jpeg"))
    assert raised.value.reason == reason
    assert bot_api.calls("GET", r".*") == []


def test_a_download_error_is_a_media_error(bot_api: FakeProvider) -> None:
    result = {"file_id": "F", "file_unique_id": "U", "file_path": "photos/gone.jpg"}
    get_file_answers(bot_api, 200, {"ok": True, "result": result})
    with pytest.raises(MediaError) as raised:  # the fake has no such file: 404
        fetch(bot_api, MediaRef("F"))
    assert raised.value.reason == "download"
