"""A webhook intake: verify, store, acknowledge, in a process without the bot.

`python -m connectors.intake --port 5205` serves the providers' webhooks of the channels in
credentials.yml (`POST /webhooks/<channel>/webhook`) through the same channel classes and the
same hub as the Rasa server, with one difference: its hub takes no turns
(`ChannelHub(turns=False)`). The replicas (connectors/server.py) hear of each stored message
through PostgreSQL (connectors/notifications.py) and take the turn under the conversation's
lease, exactly as for a message one of them stored itself.

Why a process of its own: a replica answers a webhook on its server loop while its bot thread
computes NLU, and the two share one interpreter lock. At twice the cluster's saturation the
acknowledgement waited for that lock behind the bot's work (p99 28.9 ms,
docs/scale-benchmark.md). Here nothing computes, so the acknowledgement waits for the
database write alone. `make run-cluster` starts `HILO_INTAKES` of them and sends the
webhooks' POSTs there (`--routes` lists them for the balancer); every other route (the Meta
handshake, Twilio's status callbacks, media, Rasa's API) stays on the replicas.

An intake needs the shared PostgreSQL database (`DATABASE_URL` or `CHANNELS_DATABASE_URL`):
on SQLite there is one process, `make run`, which stores and answers itself.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import UserMessage
from rasa.shared.utils.common import class_from_module_path
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.core import use_intake_hub
from connectors.storage import database_url
from connectors.webhook import HiloInput
from hilo import log_privacy

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # outside the webhooks (which cap their own bodies): nothing


class NotForIntake(SystemExit):
    """The configuration cannot run an intake (no shared database)."""


def intake_channels(credentials: Path) -> list[type[HiloInput]]:
    """The channel classes in `credentials` whose webhooks an intake can take.

    Hilo's provider channels only: Rasa's own channels run the bot on the request, and the
    sandbox streams replies from the process that sends them (`HiloInput.intake`).
    """
    mounted: Any = yaml.safe_load(credentials.read_text()) if credentials.is_file() else {}
    found: list[type[HiloInput]] = []
    for name in mounted or {}:
        try:
            cls = class_from_module_path(name)
        except (ImportError, AttributeError):
            continue  # Rasa's built-in names ("rest"): none of them is a provider webhook
        if isinstance(cls, type) and issubclass(cls, HiloInput) and cls.intake:
            found.append(cls)
    return found


def routes(channels: Sequence[type[HiloInput]]) -> list[str]:
    """The paths of the webhooks an intake serves (for the balancer's rules)."""
    return [f"/webhooks/{channel.name()}/webhook" for channel in channels]


async def _no_turns(message: UserMessage) -> None:
    """What Rasa would call to run the bot; an intake's hub never does (it takes no turns)."""
    raise RuntimeError("a webhook intake does not run the bot")


def build_app(credentials: Path, name: str = "hilo_intake") -> Sanic:
    """The intake's Sanic app: health at `/`, the channels' webhooks under `/webhooks/`."""
    use_intake_hub()
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    channels = [cls.from_credentials(None) for cls in intake_channels(credentials)]
    for channel in channels:
        app.blueprint(channel.blueprint(_no_turns), url_prefix=f"/webhooks/{channel.name()}")

    @app.route("/", methods=["GET"])
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok", "role": "intake"})

    return app


def check_database() -> None:
    """Refuses SQLite: an intake hands its messages to replicas on the same PostgreSQL."""
    if not database_url().startswith("postgresql"):
        raise NotForIntake(
            "connectors.intake stores for replicas that share PostgreSQL: set DATABASE_URL "
            "(or CHANNELS_DATABASE_URL) to postgresql://… (on SQLite, `make run` alone "
            "stores and answers)"
        )


def main(argv: list[str] | None = None) -> None:
    """Serves the webhooks until stopped (SIGINT/SIGTERM), or prints their routes."""
    parser = argparse.ArgumentParser(prog="python -m connectors.intake", description=__doc__)
    parser.add_argument("--credentials", type=Path, default=Path("credentials.yml"))
    parser.add_argument("--host", default=os.environ.get("HILO_INTAKE_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=5205)
    parser.add_argument("--routes", action="store_true", help="print the webhook paths, exit")
    arguments = parser.parse_args(argv)
    if arguments.routes:
        print("\n".join(routes(intake_channels(arguments.credentials))))
        return
    log_privacy.install()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    check_database()
    app = build_app(arguments.credentials)
    logger.info("connectors.intake.start port=%d", arguments.port)
    app.run(host=arguments.host, port=arguments.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
