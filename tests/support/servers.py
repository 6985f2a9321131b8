"""Real Hilo processes for integration tests: an action server and a Rasa server.

Each gets its own ports, databases and media directory under a temporary folder, and the
channels named in `credentials` (as credentials.yml names them). The Rasa server loads the
trained model (a few seconds, see docs/benchmarks.md) and can be killed and restarted on the
same databases, which is how crash recovery is tested.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port, wait_for

BIN = Path(sys.executable).parent
DESK_PASSWORD = "password-123"  # the test desk users'


@dataclass
class HiloProcesses:
    """An action server and a Rasa server sharing `workdir`."""

    model: Path
    workdir: Path
    credentials: str
    env: dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    actions: subprocess.Popen | None = None
    rasa: subprocess.Popen | None = None
    desk: subprocess.Popen | None = None
    desk_port: int = field(default_factory=free_port)
    intake: subprocess.Popen | None = None
    intake_port: int = field(default_factory=free_port)
    # Every store on this database (PostgreSQL for replicas), instead of SQLite files.
    database_url: str | None = None
    jwt_secret: str = "test-rasa-jwt-secret"
    actions_token: str = "test-actions-token"
    secret_key: str = "test-hilo-secret-key"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def channels_db(self) -> Path:
        return self.workdir / "channels.db"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    @property
    def rasa_log(self) -> Path:
        """The Rasa server's log (one per port: replicas share the work directory)."""
        return self.workdir / f"rasa-{self.rasa_port}.log"

    @property
    def commerce_url(self) -> str:
        return self.database_url or f"sqlite:///{self.workdir / 'commerce.db'}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "HILO_ACTIONS_PORT": str(self.actions_port),
            "HILO_RASA_PORT": str(self.rasa_port),
            "DATABASE_URL": self.commerce_url,
            "HANDOFF_DATABASE_URL": self.commerce_url,
            "CHANNELS_DATABASE_URL": self.database_url or f"sqlite:///{self.channels_db}",
            "TRACKER_DATABASE_URL": self.database_url or f"sqlite:///{self.tracker_db}",
            "HILO_MEDIA_DIR": str(self.workdir / "media"),
            "HILO_PUBLIC_URL": self.url,
            "HILO_RASA_URL": self.url,
            "HILO_RASA_JWT_SECRET": self.jwt_secret,
            "HILO_ACTIONS_TOKEN": self.actions_token,
            "HILO_SECRET_KEY": self.secret_key,
            "HILO_VAR_DIR": str(self.workdir / "var"),
            "HILO_DESK_PORT": str(self.desk_port),
            **self.env,
        }

    def start_actions(self) -> None:
        from actions.commerce.seed import main as seed_main
        from handoff.database import migrate as migrate_handoff

        seed_main(["--url", self.commerce_url])
        migrate_handoff(self.commerce_url)
        log = (self.workdir / "actions.log").open("a")
        self.actions = subprocess.Popen(  # noqa: S603
            [str(BIN / "python"), "-m", "actions.server", "--port", str(self.actions_port)],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"http://127.0.0.1:{self.actions_port}/health", self.actions)

    def start_rasa(self) -> None:
        (self.workdir / "credentials.yml").write_text(self.credentials)
        (self.workdir / "endpoints.yml").write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            "tracker_store:\n  type: components.tracker_store.WindowedSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {self.tracker_db}\n  window: 200\n"
            "nlg:\n  type: components.nlg.HiloNLG\n"
        )
        log = self.rasa_log.open("a")
        self.rasa = subprocess.Popen(  # noqa: S603
            [
                str(BIN / "python"),
                "-m",
                "connectors.server",
                "--model",
                str(self.model),
                "--port",
                str(self.rasa_port),
                "--credentials",
                str(self.workdir / "credentials.yml"),
                "--endpoints",
                str(self.workdir / "endpoints.yml"),
            ],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.url}/", self.rasa, timeout=180)

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.intake_port}"

    def start_intake(self) -> None:
        """A webhook intake (connectors/intake.py) for the same channels and database."""
        (self.workdir / "credentials.yml").write_text(self.credentials)
        log = (self.workdir / f"intake-{self.intake_port}.log").open("a")
        self.intake = subprocess.Popen(  # noqa: S603
            [
                str(BIN / "python"),
                "-m",
                "connectors.intake",
                "--port",
                str(self.intake_port),
                "--credentials",
                str(self.workdir / "credentials.yml"),
            ],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.intake_url}/", self.intake, timeout=60)

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.desk_port}"

    def start_desk(self) -> None:
        """The agent desk (`hilo desk`), on the same databases as the bot."""
        log = (self.workdir / "desk.log").open("a")
        self.desk = subprocess.Popen(  # noqa: S603
            [str(BIN / "hilo"), "desk", "--port", str(self.desk_port)],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.desk_url}/api/openapi.json", self.desk, timeout=60)

    def desk_user(self, username: str, role: str, display_name: str) -> None:
        """A desk user (password "password-123"), not available: cases wait for a claim."""
        from handoff.auth import Accounts
        from handoff.database import make_engine

        engine = make_engine(self.commerce_url)
        accounts = Accounts(engine)
        user = accounts.create(username, DESK_PASSWORD, role=role, display_name=display_name)
        accounts.set_available(user.id, False)
        engine.dispose()

    def desk_login(self, username: str, password: str = DESK_PASSWORD) -> httpx.Client:
        """An HTTP client on the desk, logged in as `username` (bearer token)."""
        client = httpx.Client(base_url=self.desk_url, timeout=30)
        login = client.post("/api/auth/login", json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        return client

    def replica(self) -> HiloProcesses:
        """Another Rasa server on the same databases and action server (not started)."""
        return HiloProcesses(
            model=self.model,
            workdir=self.workdir,
            credentials=self.credentials,
            env=self.env,
            actions_port=self.actions_port,
            desk_port=self.desk_port,
            database_url=self.database_url,
        )

    def kill_rasa(self) -> None:
        """kill -9: no shutdown hooks, nothing flushed."""
        assert self.rasa is not None
        self.rasa.send_signal(signal.SIGKILL)
        self.rasa.wait(timeout=30)

    def pause_actions(self) -> None:
        assert self.actions is not None
        self.actions.send_signal(signal.SIGSTOP)

    def resume_actions(self) -> None:
        assert self.actions is not None
        self.actions.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in (self.intake, self.desk, self.rasa, self.actions):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
