"""A channel mounted on a real Sanic server on 127.0.0.1, with a stand-in for Rasa's agent.

The connector is the thing under test, whole: its blueprint is registered with Rasa's own
`register()` (as `rasa run` does from credentials.yml), webhooks arrive over real HTTP, and
the hub's dispatcher runs turns on its bot thread. Rasa's agent is replaced by `EchoBot`,
which records each `UserMessage` and answers through the message's own output channel, so
outbound sending is exercised too. Tests of the bot itself use the real model elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

Reply = Callable[[UserMessage], list[dict[str, Any]]]


def echo(message: UserMessage) -> list[dict[str, Any]]:
    """Answers every message with its text."""
    return [{"text": f"echo: {message.text}"}]


@dataclass
class EchoBot:
    """Stands in for `app.ctx.agent`: records messages, replies with `reply(message)`."""

    reply: Reply = echo
    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0
    fail_times: int = 0  # raise on the first N turns (the bot's own failure)

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("bot failure for the test")
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(message)
        for response in self.reply(message):
            await message.output_channel.send_response(message.sender_id, dict(response))

    def texts(self) -> list[str]:
        return [message.text for message in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[UserMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.02)
        assert len(self.received) >= count, f"bot got {len(self.received)} of {count} messages"
        return self.received


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedApp:
    """Serves a Sanic app on a free port of 127.0.0.1 in a background thread until `close()`."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(20):
            raise RuntimeError("test server did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
            )
            await self._server.startup()
            await self._server.before_start()
            await self._server.after_start()
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("timeout", 10)
        return httpx.post(f"{self.url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("timeout", 10)
        return httpx.get(f"{self.url}{path}", **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("timeout", 10)
        return httpx.request(method, f"{self.url}{path}", **kwargs)

    def close(self) -> None:
        async def stop() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class ChannelApp(ServedApp):
    """Serves `channels` (registered as `rasa run` does) with `EchoBot` as the agent."""

    _count = 0

    def __init__(self, channels: list[InputChannel], bot: EchoBot | None = None) -> None:
        ChannelApp._count += 1
        Sanic.test_mode = True  # several apps per process (what sanic-testing does)
        self.bot = bot or EchoBot()
        app = Sanic(f"hilo_test_{ChannelApp._count}")
        app.ctx.agent = self.bot
        self.channels = channels
        register(channels, app, route="/webhooks/")
        super().__init__(app)
