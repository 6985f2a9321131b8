"""Telegram's Bot API faked on 127.0.0.1, answering like Telegram, and a customer's updates.

python-telegram-bot's real `Bot` sends to it (form bodies, multipart uploads); a test reads
what was sent with `BotApi.sent()`. `TelegramCustomer` posts updates to a Hilo webhook with
the secret token header, as Telegram does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sanic.request import parse_multipart_form

from tests.support.fake_provider import FakeProvider, Recorded

TOKEN = "123456789:TEST-token"
SECRET = "s3cr3t-token_1"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
WEBHOOK = "/webhooks/telegram/webhook"
CREDENTIALS = "connectors.telegram.TelegramInput:\n"


def fields(request: Recorded) -> dict[str, Any]:
    """A PTB request body as {name: str} (form) or {name: str | (filename, bytes)} (multipart)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        boundary = content_type.split("boundary=", 1)[1].encode()
        values, files = parse_multipart_form(request.body, boundary)
        result: dict[str, Any] = {key: values.get(key) for key in values}
        result.update({key: (files.get(key).name, files.get(key).body) for key in files})
        return result
    assert content_type == "application/x-www-form-urlencoded", content_type
    return {key: values[0] for key, values in request.form().items()}


@dataclass
class BotApi:
    """The Bot API routes Hilo uses, on a FakeProvider, answering like Telegram."""

    fake: FakeProvider
    files: dict[str, tuple[str, bytes, int]] = field(default_factory=dict)  # id: path, data, size
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(500, 100_000)))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        route = self.fake.route
        for method in ("sendMessage", "sendPhoto", "sendDocument"):
            route("POST", rf"/bot{TOKEN}/{method}", self._sent)
        route("POST", rf"/bot{TOKEN}/answerCallbackQuery", lambda _r: (200, ok(True)))
        route("POST", rf"/bot{TOKEN}/getFile", self._get_file)
        route("GET", r"/file/bot123456789%3ATEST-token/(?P<path>.+)", self._download)
        route("POST", rf"/bot{TOKEN}/setWebhook", lambda _r: (200, ok(True)))
        route("POST", rf"/bot{TOKEN}/getWebhookInfo", lambda _r: (200, ok(WEBHOOK_INFO)))
        route("POST", rf"/bot{TOKEN}/getMe", lambda _r: (200, ok(BOT_USER)))

    def _sent(self, request: Recorded) -> tuple[int, Any]:
        with self._lock:
            message_id = next(self._ids)
        chat = int(fields(request)["chat_id"])
        return 200, ok(
            {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": chat, "first_name": "Alice", "type": "private"},
                "date": int(time.time()),
            }
        )

    def _get_file(self, request: Recorded) -> tuple[int, Any]:
        file_id = fields(request)["file_id"]
        if file_id not in self.files:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: wrong file_id",
            }
        path, _, size = self.files[file_id]
        return 200, ok(
            {"file_id": file_id, "file_unique_id": "u" + file_id[-6:], "file_size": size,
             "file_path": path}
        )  # fmt: skip

    def _download(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        for path, data, _ in self.files.values():
            if request.path.endswith("/" + path):
                return 200, data, {"Content-Type": "application/octet-stream"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def sent(self, method: str = "sendMessage", count: int = 1) -> list[dict[str, Any]]:
        return [fields(r) for r in self.fake.wait_for("POST", rf"/bot{TOKEN}/{method}", count)]


BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "TestBot", "username": "test_bot"}
WEBHOOK_INFO = {
    "url": "https://hilo.example/webhooks/telegram/webhook",
    "has_custom_certificate": False,
    "pending_update_count": 3,
    "last_error_date": 1700000000,
    "last_error_message": "Wrong response from the webhook: 503 Service Unavailable",
}


def ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def env(fake: FakeProvider) -> dict[str, str]:
    """What a Hilo process needs to talk to the fake Bot API."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_SECRET_TOKEN": SECRET,
        "TELEGRAM_API_BASE_URL": fake.url,
    }


@dataclass
class TelegramCustomer:
    """A person writing to the bot from Telegram chat `chat_id`."""

    chat_id: int
    first_name: str
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _update(self, message: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        person = {"id": self.chat_id, "first_name": self.first_name}
        return {
            "update_id": self.chat_id * 1000 + number,
            "message": {
                "message_id": number,
                "from": {**person, "is_bot": False},
                "chat": {**person, "type": "private"},
                "date": int(time.time()),
                **message,
            },
        }

    def post(self, base_url: str, message: dict[str, Any]) -> None:
        """Delivers one update to Hilo's webhook at `base_url`; it must take it (200)."""
        reply = httpx.post(
            base_url + WEBHOOK,
            content=json.dumps(self._update(message)),
            headers={"Content-Type": "application/json", **HEADERS},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text

    def say(self, base_url: str, text: str) -> None:
        self.post(base_url, {"text": text})

    def share_own_contact(self, base_url: str, phone: str) -> None:
        """Telegram's "share my phone number": links this chat to the person with `phone`."""
        self.post(
            base_url,
            {
                "contact": {
                    "phone_number": phone.lstrip("+"),
                    "first_name": self.first_name,
                    "user_id": self.chat_id,
                }
            },
        )
