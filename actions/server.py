"""The action server: `python -m actions.server [--port N]`, Rasa SDK's app with Hilo's guard.

The action server answers whatever tracker it is sent: a forged one could ask for any order,
and its slots come back in the answer. So it listens on 127.0.0.1 (HILO_ACTIONS_HOST to
change it), and in production it answers only calls carrying the shared token the Rasa
server sends (connectors/server.py, `X-Hilo-Actions-Token`). In development the token is not
required, so `rasa run` and `rasa shell` typed by hand still reach it.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hilo import log_privacy
from hilo.keys import actions_token
from hilo.profile import is_production

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Hilo-Actions-Token"  # noqa: S105 (a header name, not a secret)
OPEN_PATHS = frozenset({"/health"})


def guarded_app(token: str | None) -> Sanic:
    """Rasa SDK's app for `actions`; with a token, every route but /health requires it."""
    app = create_app("actions", cors_origins=[])

    if token is not None:
        expected = token.encode()

        @app.middleware("request")
        async def require_token(request: Request) -> HTTPResponse | None:
            if request.path in OPEN_PATHS:
                return None
            given = request.headers.get(TOKEN_HEADER, "").encode()
            if hmac.compare_digest(given, expected):
                return None
            logger.warning("actions.server.refused path=%s", request.path)
            return response.json({"error": "missing or wrong action-server token"}, status=401)

    return app


def main(argv: list[str] | None = None) -> None:
    """Starts the server (one worker: the commerce store's engine lives in the process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("HILO_ACTIONS_PORT", "5055"))
    )
    parser.add_argument("--host", default=os.environ.get("HILO_ACTIONS_HOST", "127.0.0.1"))
    arguments = parser.parse_args(argv)
    log_privacy.install()
    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    token = actions_token() if is_production() else None
    app = guarded_app(token)
    logger.info(
        "actions.server.start host=%s port=%s token=%s",
        arguments.host,
        arguments.port,
        "required" if token else "not required (development)",
    )
    app.run(arguments.host, arguments.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
