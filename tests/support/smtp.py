"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for tests.

The bot hands its emails (one-time codes) to it through smtplib, as it would to a real mail
server; a test reads them back.
"""

from __future__ import annotations

import email
import re
import threading
import time
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


class _Keep:
    def __init__(self, inbox: list[Message], lock: threading.Lock) -> None:
        self.inbox, self.lock = inbox, lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.inbox.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class MailServer:
    """Started on construction; `url` is what HILO_SMTP_URL takes."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(
            _Keep(self.messages, self._lock), hostname="127.0.0.1", port=self.port
        )
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Message]:
        """Messages received for `address`."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def latest_code(self, address: str | None = None, timeout: float = 10) -> str:
        """The six digits of the newest email (to `address`), waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                everything = list(self.messages)
            received = self.to(address) if address else everything
            if received:
                body = received[-1].get_payload(decode=True)
                found = re.search(rb"\b(\d{6})\b", body if isinstance(body, bytes) else b"")
                if found:
                    return found.group(1).decode()
            time.sleep(0.05)
        raise AssertionError("no code was mailed")

    def clear(self) -> None:
        """Forgets what was received."""
        with self._lock:
            self.messages.clear()

    def close(self) -> None:
        self._controller.stop()
