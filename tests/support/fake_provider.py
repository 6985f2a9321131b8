"""A fake provider API on 127.0.0.1: real HTTP, programmable answers, every request recorded.

The real client libraries (twilio's Client, python-telegram-bot's Bot, httpx for the Graph
API) are pointed at it through the channels' `*_API_BASE_URL` variables, so tests exercise
the real wire format both ways.

    provider = FakeProvider()
    provider.route("POST", r"/bot[^/]+/sendMessage", lambda req: (200, {"ok": True, ...}))
    ...
    provider.requests  # [Recorded(method, path, query, headers, body), ...]
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


# A handler returns (status, body) or (status, body, headers); dict/list bodies become JSON.
Handler = Callable[[Recorded], tuple]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class FakeProvider:
    """A threaded HTTP server with routes matched in the order they were added (latest first)."""

    routes: list[_Route] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
                with fake._lock:
                    fake.requests.append(recorded)
                status, payload, headers = fake._answer(recorded)
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json")
                elif isinstance(payload, str):
                    data = payload.encode()
                    headers.setdefault("Content-Type", "text/plain")
                else:
                    data = payload or b""
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answers requests whose path fully matches `pattern` (added later = tried first)."""
        self.routes.insert(0, _Route(method.upper(), re.compile(pattern), handler))

    def _answer(self, recorded: Recorded) -> tuple[int, Any, dict[str, str]]:
        for route in self.routes:
            if route.method == recorded.method and route.pattern.fullmatch(recorded.path):
                result = route.handler(recorded)
                status, payload = result[0], result[1]
                headers = dict(result[2]) if len(result) > 2 else {}
                return status, payload, headers
        return 404, {"error": f"no fake route for {recorded.method} {recorded.path}"}, {}

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests matching method and path pattern."""
        regex = re.compile(pattern)
        with self._lock:
            return [
                r for r in self.requests if r.method == method.upper() and regex.fullmatch(r.path)
            ]

    def wait_for(
        self, method: str, pattern: str, count: int = 1, timeout: float = 10.0
    ) -> list[Recorded]:
        """Waits until at least `count` matching requests arrived; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls(method, pattern)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        found = self.calls(method, pattern)
        raise AssertionError(f"expected {count} {method} {pattern}, got {len(found)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
