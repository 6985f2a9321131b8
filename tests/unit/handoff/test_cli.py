"""`hilo users` and `hilo prune`: passwords come from standard input, never from the command
line; users can be kept out and their sessions ended."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.auth import Accounts, AuthError
from handoff.cli import main
from handoff.database import make_engine
from handoff.models import sessions


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    address = f"sqlite:///{tmp_path / 'handoff.db'}"
    monkeypatch.setenv("HANDOFF_DATABASE_URL", address)
    return address


def test_create_reads_the_password_from_stdin_and_it_works(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("una-clave-larga\n"))
    assert main(["users", "create", "Ana", "--role", "supervisor", "--team", "pagos"]) == 0
    assert "created ana (supervisor)" in capsys.readouterr().out
    accounts = Accounts(make_engine(url))
    session = accounts.login("ana", "una-clave-larga")
    assert (session.agent.role, session.agent.team) == ("supervisor", "pagos")
    assert main(["users", "list"]) == 0
    assert "ana\tsupervisor" in capsys.readouterr().out


def test_bad_input_gets_a_clear_message(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("corta\n"))
    assert main(["users", "create", "beto", "--role", "agent"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("una-clave-larga\n"))
    assert main(["users", "create", "beto", "--role", "agent"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("una-clave-larga\n"))
    assert main(["users", "create", "beto", "--role", "agent"]) == 1
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["users", "create", "carla", "--role", "owner"])


def test_there_is_no_password_option_and_hilo_is_installed() -> None:
    hilo = Path(sys.executable).with_name("hilo")
    assert hilo.is_file()  # `make setup` installs the console command in .venv/bin/
    usage = subprocess.run(  # noqa: S603
        [str(hilo), "users", "create", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--role" in usage
    assert "--password" not in usage


def test_users_can_be_deactivated_reset_and_revoked(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("una-clave-larga\n"))
    assert main(["users", "create", "ana", "--role", "agent"]) == 0
    accounts = Accounts(make_engine(url))
    first, second = (
        accounts.login("ana", "una-clave-larga"),
        accounts.login("ana", "una-clave-larga"),
    )
    assert main(["users", "revoke", "ana"]) == 0
    assert "ended 2 sessions of ana" in capsys.readouterr().out
    assert not accounts.alive(first.token)
    assert not accounts.alive(second.token)

    kept = accounts.login("ana", "una-clave-larga")
    monkeypatch.setattr(sys, "stdin", io.StringIO("otra-clave-nueva\n"))
    assert main(["users", "reset-password", "ana"]) == 0
    assert not accounts.alive(kept.token)  # whoever had the old password is out
    with pytest.raises(AuthError):
        accounts.login("ana", "una-clave-larga")
    live = accounts.login("ana", "otra-clave-nueva")

    assert main(["users", "deactivate", "ana"]) == 0
    assert not accounts.alive(live.token)
    with pytest.raises(AuthError):
        accounts.login("ana", "otra-clave-nueva")
    assert main(["users", "activate", "ana"]) == 0
    assert accounts.login("ana", "otra-clave-nueva").agent.username == "ana"
    assert main(["users", "revoke", "zoe"]) == 1
    assert "no user zoe" in capsys.readouterr().err


def test_prune_forgets_expired_sessions(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("una-clave-larga\n"))
    assert main(["users", "create", "ana", "--role", "agent"]) == 0
    engine = make_engine(url)
    Accounts(engine).login("ana", "una-clave-larga")
    with engine.begin() as connection:
        connection.execute(sessions.update().values(expires_at=0.0))
    assert main(["prune"]) == 0
    assert "forgot 1 expired sessions" in capsys.readouterr().out
