"""The desk app on a real HTTP server on 127.0.0.1, in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import httpx
from aiohttp import web


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DeskServer:
    """Serves `app` until `close()`; `client()` is an httpx client for it."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app)
        self._closed = False
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(20):
            raise RuntimeError("desk test server did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # a hang guard, not a goal

    def close(self) -> None:
        """Stops the server as `web.run_app` would (shutdown signals, then cleanup); once."""
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
