"""The desk's way to the bot: Rasa's HTTP API, authenticated with a JWT.

Everything the desk does to a conversation goes through Rasa, so the tracker keeps the
whole story (an agent's message is a bot event with `source: agent` in its metadata) and
the conversation's lock serializes it with the customer's messages:

- an agent's reply: a `bot` event with `execute_side_effects` and the channel named
  explicitly (`output_channel=latest` fails silently after a new session,
  rasa-3.6-notes.md §2.2); the channel's `get_output_channel()` sends it, window rules
  included;
- (handing back is the Rasa server's own job: handoff/ownership.py).

Rasa runs with its API behind a JWT secret (connectors/server.py); the desk signs a
short-lived admin token with the same secret (hilo/keys.py).
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from hilo.keys import MissingSecret, rasa_jwt_secret

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class RasaError(Exception):
    """Rasa did not accept a request (down, refused, or the channel cannot send)."""


def rasa_url() -> str:
    """`HILO_RASA_URL`, or the local server on `HILO_RASA_PORT`."""
    default = f"http://127.0.0.1:{os.environ.get('HILO_RASA_PORT', '5005')}"
    return (os.environ.get("HILO_RASA_URL") or default).rstrip("/")


def jwt_secret() -> str:
    """The secret the Rasa server checks tokens with (hilo/keys.py)."""
    try:
        return rasa_jwt_secret()
    except MissingSecret as error:
        raise RasaError(str(error)) from error


def _path(conversation_id: str) -> str:
    """The conversation id in a URL path, with ':' and '+' as they are.

    Sanic hands path parameters to Rasa undecoded: "whatsapp%3A%2B52…" would name another
    conversation, and the agent's reply would go to nobody.
    """
    return quote(conversation_id, safe=":+")


class RasaClient:
    """Async calls to one Rasa server's HTTP API."""

    def __init__(self, base_url: str | None = None, secret: str | None = None) -> None:
        """Defaults: `rasa_url()` and `jwt_secret()`."""
        self.base_url = (base_url or rasa_url()).rstrip("/")
        self._secret = secret
        self._client: httpx.AsyncClient | None = None

    def _token(self) -> str:
        secret = self._secret or jwt_secret()
        payload = {
            "user": {"username": "hilo-desk", "role": "admin"},
            "exp": int(time.time()) + 300,
        }
        return str(jwt.encode(payload, secret, algorithm="HS256"))

    @property
    def client(self) -> httpx.AsyncClient:
        """One client for the desk's event loop."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        return self._client

    async def close(self) -> None:
        """Closes the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._token()}"}
        try:
            reply = await self.client.request(
                method, self.base_url + path, headers=headers, **kwargs
            )
        except httpx.HTTPError as error:
            raise RasaError(f"the bot server did not answer ({type(error).__name__})") from error
        if reply.status_code >= 300:
            raise RasaError(f"the bot server refused the request (HTTP {reply.status_code})")
        return reply.json() if reply.content else None

    async def events(
        self,
        conversation_id: str,
        events: list[dict[str, Any]],
        *,
        output_channel: str | None = None,
        send: bool = False,
    ) -> None:
        """Appends events to a conversation (under its lock); `send` delivers bot events."""
        params = {"include_events": "NONE"}
        if output_channel:
            params["output_channel"] = output_channel
        if send:
            params["execute_side_effects"] = "true"
        await self._call(
            "POST",
            f"/conversations/{_path(conversation_id)}/tracker/events",
            params=params,
            json=events,
        )

    async def agent_says(
        self, conversation_id: str, channel: str, text: str, *, agent_id: int, agent_name: str
    ) -> None:
        """An agent's message to the customer, through the conversation's channel."""
        event = {
            "event": "bot",
            "text": text,
            "metadata": {"source": "agent", "agent_id": agent_id, "agent_name": agent_name},
        }
        await self.events(conversation_id, [event], output_channel=channel, send=True)

    async def hilo_says(self, conversation_id: str, channel: str, text: str) -> None:
        """A message of the handoff itself ("we got your message"), not the bot's."""
        event = {"event": "bot", "text": text, "metadata": {"source": "handoff"}}
        await self.events(conversation_id, [event], output_channel=channel, send=True)

    async def slots(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's current slot values."""
        tracker = await self._call(
            "GET",
            f"/conversations/{_path(conversation_id)}/tracker",
            params={"include_events": "NONE"},
        )
        return dict((tracker or {}).get("slots") or {})
