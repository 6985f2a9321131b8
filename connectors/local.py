"""Channels for trying Hilo on one machine: mounted in development, answering only locally.

Rasa's REST channel and the sandbox page take any conversation id without proving who is
writing, so whoever reaches them can talk as any customer (`whatsapp:+52…` included). They
exist for a developer's own machine:

- development (`make run`): mounted, and they answer only requests whose peer is this machine
  and that no proxy forwarded (a tunnel such as ngrok connects from 127.0.0.1 but adds
  `X-Forwarded-For`); anything else gets 403;
- production (`HILO_ENV=production`): not mounted at all: no route exists to reach.

`LocalRestInput` is Rasa's REST channel under that rule; credentials.yml names it instead of
`rest`. The Rasa server's launcher (connectors/server.py) refuses to start in production when
credentials.yml mounts one of Rasa's own unauthenticated channels.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hilo.profile import is_production

logger = logging.getLogger(__name__)

# Rasa's built-in channels that prove nothing about who writes (credentials.yml keys).
UNAUTHENTICATED_BUILTINS = frozenset({"rest", "socketio", "callback", "cmdline"})
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


def is_local(request: Request) -> bool:
    """Whether the request comes straight from this machine (no proxy or tunnel forwarded it)."""
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.ip).is_loopback
    except ValueError:
        return False


def refused(request: Request) -> HTTPResponse:
    """The answer to a remote request for a local-only route."""
    return response.json(
        {"error": "this route answers only on the machine running Hilo (development profile)"},
        status=403,
    )


def guard(blueprint: Blueprint) -> Blueprint:
    """Makes every route of `blueprint` answer local requests only."""

    @blueprint.middleware("request")
    async def local_only(request: Request) -> HTTPResponse | None:
        if is_local(request):
            return None
        logger.warning(
            "connectors.local.refused route=%s", request.route.name if request.route else ""
        )
        return refused(request)

    return blueprint


def unmounted(name: str) -> Blueprint:
    """What a development-only channel mounts in production: no routes at all."""
    logger.info("connectors.local.not_mounted channel=%s profile=production", name)
    return Blueprint(f"hilo_unmounted_{name}", __name__)


class LocalRestInput(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`), for this machine and development only."""

    @classmethod
    def name(cls) -> str:
        """Same name and URL as Rasa's REST channel, so `make shell` and curl work unchanged."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LocalRestInput:
        """No settings."""
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Rasa's routes behind the local-only guard; nothing in production."""
        if is_production():
            return unmounted(self.name())
        return guard(super().blueprint(on_new_message))
