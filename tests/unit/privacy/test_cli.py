"""`hilo privacy erase|export` on this deployment's stores (from the environment), and the
hook that registers `hilo privacy retain` when privacy/retention.py is there."""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from handoff.cli import main as hilo
from handoff.database import make_engine
from privacy import audit, cli
from tests.unit.privacy.conftest import ANA_NAME, ANA_SAID, JOHN_NAME, World


@pytest.fixture
def deployed(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world's stores as this deployment's environment names them."""
    monkeypatch.setenv("CHANNELS_DATABASE_URL", world.urls["channels"])
    monkeypatch.setenv("HANDOFF_DATABASE_URL", world.urls["handoff"])
    monkeypatch.setenv("DATABASE_URL", world.urls["commerce"])
    monkeypatch.setenv("TRACKER_DATABASE_URL", world.urls["trackers"])
    monkeypatch.setenv("HILO_MEDIA_DIR", str(world.stores.media))
    assert world.stores.mail is not None
    monkeypatch.setenv("HILO_VAR_DIR", str(world.stores.mail.parent))
    return world


def test_export_then_erase_from_the_hilo_command(
    deployed: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ana.zip"
    assert hilo(["privacy", "export", "--phone", "+52 55 1234 5678", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with zipfile.ZipFile(out) as zipped:
        assert ANA_SAID in zipped.read("messages.json").decode()
    code = hilo(["privacy", "erase", "--phone", "+5215512345678", "--reason", "ARCO 17", "--yes"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 conversation(s) on telegram, twilio, 1 profile(s)" in printed
    assert deployed.holding(ANA_NAME, ANA_SAID) == {}
    assert deployed.holding(JOHN_NAME) != {}
    engine = make_engine(deployed.urls["handoff"])
    actions = [entry["action"] for entry in audit.entries(engine)]
    engine.dispose()
    assert actions == ["erase", "export"]


def test_erasing_asks_first_on_a_terminal_and_needs_yes_elsewhere(
    deployed: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["erase", "--conversation", "telegram:7001", "--reason", "ARCO 18"]
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert cli.main(command) == 2
    assert "--yes" in capsys.readouterr().err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert cli.main(command) == 1
    assert "found 2 conversation(s)" in capsys.readouterr().out
    assert deployed.holding(ANA_SAID) != {}
    monkeypatch.setattr("builtins.input", lambda prompt: "erase")
    assert cli.main([*command, "--actor", "ana.admin"]) == 0
    assert deployed.holding(ANA_SAID) == {}
    engine = make_engine(deployed.urls["handoff"])
    (entry,) = audit.entries(engine)
    engine.dispose()
    assert (entry["actor"], entry["reason"]) == ("ana.admin", "ARCO 18")


def test_bad_requests_get_a_clear_message(
    deployed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["erase", "--reason", "x", "--yes"]) == 2
    assert "phone, an email or a conversation" in capsys.readouterr().err
    assert cli.main(["erase", "--phone", "hola", "--reason", "x", "--yes"]) == 2
    assert cli.main(["erase", "--email", "a@b.co", "--reason", " ", "--yes"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["erase", "--phone", "+5215512345678"])  # no reason


def test_retention_registers_itself_when_its_module_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[argparse.Namespace] = []

    def add_parser(subparsers: argparse._SubParsersAction) -> None:
        subparsers.add_parser("retain").add_argument("--dry-run", action="store_true")

    fake = SimpleNamespace(add_parser=add_parser, run=lambda args: ran.append(args) or 0)
    monkeypatch.setattr(cli, "_retention", lambda: fake)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["retain", "--dry-run"])
    assert cli.run(args) == 0
    assert ran[0].dry_run is True
    monkeypatch.setattr(cli, "_retention", lambda: None)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["retain"])
