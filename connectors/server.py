"""Starts the Rasa server the way Hilo needs it: `python -m connectors.server [rasa run options]`.

It is `rasa run` with the model, the channels (credentials.yml), the endpoints and Rasa's HTTP
API behind a JWT, plus what the profile requires (hilo/profile.py):

- the JWT secret comes from the environment (or, in development, var/rasa-jwt.secret) and
  never goes on a command line, where `ps` would show it (and where a generated secret that
  starts with "-" read as an option, so Rasa refused to start);
- the action server's shared token is sent with every action call, in a header;
- in production it refuses to start when credentials.yml mounts one of Rasa's channels that
  prove nothing about who writes (`rest`, `socketio`, `callback`): anyone could post as any
  customer there.

Any other `rasa run` option is passed on as is.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from components.tracker_store import install_outage_aware_wrapper
from connectors import rasa_stores
from connectors.local import UNAUTHENTICATED_BUILTINS
from hilo import log_privacy
from hilo.keys import actions_token, rasa_jwt_secret
from hilo.profile import is_production

ACTIONS_TOKEN_HEADER = "X-Hilo-Actions-Token"  # noqa: S105 (a header name)
# What the Rasa server reads of a body outside the channel webhooks: its HTTP API gets events
# and messages from the desk, a few kilobytes.
MAX_BODY_BYTES = 1024 * 1024


class UnsafeConfiguration(SystemExit):
    """The configuration would expose conversations in production."""


def open_channels(credentials: Path) -> list[str]:
    """Channels in `credentials` that accept messages from anyone as anyone."""
    mounted: Any = yaml.safe_load(credentials.read_text()) if credentials.is_file() else {}
    return sorted(set(mounted or {}) & UNAUTHENTICATED_BUILTINS)


def check_production(credentials: Path) -> None:
    """Refuses what production must not run with."""
    if not is_production():
        return
    exposed = open_channels(credentials)
    if exposed:
        raise UnsafeConfiguration(
            f"HILO_ENV=production: {credentials} mounts {', '.join(exposed)}, which let anyone "
            "post as any customer. Remove them (the sandbox and connectors.local.LocalRestInput "
            "are left out of production by themselves)."
        )


def actions_url(url: str) -> str:
    """The action endpoint's URL on `HILO_ACTIONS_PORT`, when that is set."""
    port = os.environ.get("HILO_ACTIONS_PORT", "").strip()
    if not port:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{int(port)}"))


def configure_action_endpoint(token: str | None) -> None:
    """Action calls to HILO_ACTIONS_PORT with the token; Rasa's stores from the environment.

    The stores are the ones the environment names (connectors/rasa_stores.py).

    endpoints.yml names the default port (5055) so that Rasa's own `rasa run` reads it
    without any variable set; this process follows the variable instead.
    """
    from rasa.core.utils import AvailableEndpoints

    original = AvailableEndpoints.read_endpoints.__func__

    def read_endpoints(cls: type[AvailableEndpoints], path: str | None) -> AvailableEndpoints:
        endpoints = original(cls, path)
        rasa_stores.apply(endpoints)
        if endpoints.action is not None:
            endpoints.action.url = actions_url(str(endpoints.action.url))
            if token:
                endpoints.action.headers = {
                    **(endpoints.action.headers or {}),
                    ACTIONS_TOKEN_HEADER: token,
                }
        return endpoints

    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


def rasa_arguments(argv: list[str]) -> list[str]:
    """`rasa run` arguments: Hilo's defaults, the caller's options, the API behind a JWT."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--credentials", default="credentials.yml")
    known, rest = parser.parse_known_args(argv)
    check_production(Path(known.credentials))
    port = os.environ.get("HILO_RASA_PORT", "5005")
    defaults = ["--port", port] if "--port" not in rest and "-p" not in rest else []
    # `--option=value` keeps a secret that starts with "-" a value.
    return [
        "run",
        *defaults,
        "--credentials",
        known.credentials,
        *rest,
        "--enable-api",
        f"--jwt-secret={rasa_jwt_secret()}",
    ]


def main(argv: list[str] | None = None) -> None:
    """Checks the profile, then runs Rasa's own command line in this process."""
    log_privacy.install()
    arguments = rasa_arguments(list(sys.argv[1:] if argv is None else argv))
    configure_action_endpoint(actions_token())
    install_outage_aware_wrapper()  # a database outage makes a turn wait, never forget
    # Sanic reads at most this much of a body it reads for a handler (its default is 100 MB).
    # The channel webhooks stream theirs and cap it per channel (connectors/webhook.py).
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_BODY_BYTES))
    from rasa.__main__ import main as rasa_main

    # Rasa parses sys.argv; changing it here does not change what `ps` shows (/proc/PID/cmdline).
    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()
