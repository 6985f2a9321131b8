"""Shared fixtures: the project paths, the trained model, the action server and the agent.

The model is trained at most once per test run (and only when its inputs changed, see
components/training.py) and loaded once per run; every model test shares that agent and
talks to one action server process, each test in its own conversation.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.smtp import MailServer

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HILO_ACTIONS_PORT", "5055")
# Hilo's key (sealed proofs, pseudonyms) is the same in this process and the servers it starts,
# and no test writes secrets into the project's var/.
os.environ.setdefault("HILO_SECRET_KEY", "hilo-test-secret-key")
os.environ.setdefault("HILO_VAR_DIR", str(Path(tempfile.mkdtemp(prefix="hilo-var-"))))


@pytest.fixture(scope="session")
def root() -> Path:
    """The project directory."""
    return ROOT


@pytest.fixture(scope="session")
def domain():
    """The real domain.yml (tests fail when it drifts)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Polls url until it answers 2xx; fails if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 300:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1 receiving the action server's one-time codes."""
    from tests.support.smtp import MailServer

    server = MailServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def action_server(
    tmp_path_factory: pytest.TempPathFactory, mail_server: MailServer
) -> Iterator[str]:
    """A real Rasa SDK action server running Hilo's actions; yields its webhook URL.

    Its store is the demo store (actions/commerce/seed.py) in a temporary SQLite file; its
    emails (one-time codes) go to `mail_server`.
    """
    from actions.commerce.seed import main as seed_main
    from handoff.database import migrate as migrate_handoff

    port = free_port()
    workdir = tmp_path_factory.mktemp("actions")
    database_url = f"sqlite:///{workdir / 'commerce.db'}"
    seed_main(["--url", database_url])
    migrate_handoff(database_url)  # the handoff's cases live beside the store (DATABASE_URL)
    log = (workdir / "actions.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "HILO_SMTP_URL": mail_server.url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The trained model, trained now only if data, domain, config or components changed."""
    from components.training import train

    return train()


@pytest.fixture(scope="session")
def agent(model_path: Path, action_server: str, tmp_path_factory: pytest.TempPathFactory):
    """The model loaded once, wired like endpoints.yml: Hilo's NLG, the windowed SQLite
    tracker store (in a temporary file) and the action server."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from components.tracker_store import WindowedSQLTrackerStore

    db = tmp_path_factory.mktemp("tracker") / "tracker.db"
    return Agent.load(
        str(model_path),
        action_endpoint=EndpointConfig(action_server),
        generator=EndpointConfig(type="components.nlg.HiloNLG"),
        tracker_store=WindowedSQLTrackerStore(db=str(db)),
    )


@pytest.fixture
def sender() -> str:
    """A fresh conversation id for one test."""
    return f"test-{uuid.uuid4().hex[:12]}"
