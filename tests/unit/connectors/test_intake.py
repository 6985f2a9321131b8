"""The webhook intake's choices: which channels it takes, their routes, and where it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.intake import NotForIntake, check_database, intake_channels, routes
from connectors.messenger import MessengerInput
from connectors.telegram import TelegramInput
from connectors.twilio import TwilioInput
from connectors.whatsapp import WhatsAppInput
from tests.conftest import ROOT


def test_it_takes_the_providers_webhooks_and_leaves_everything_else_to_the_replicas() -> None:
    """Not the sandbox (replies stream from its own process), Rasa's REST, media, the handoff."""
    channels = intake_channels(ROOT / "credentials.yml")
    assert channels == [WhatsAppInput, TwilioInput, MessengerInput, TelegramInput]
    assert routes(channels) == [
        "/webhooks/whatsapp/webhook",
        "/webhooks/twilio/webhook",
        "/webhooks/messenger/webhook",
        "/webhooks/telegram/webhook",
    ]


def test_builtin_channel_names_and_missing_files_give_no_channels(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nconnectors.sandbox.SandboxInput:\n")
    assert intake_channels(credentials) == []
    assert intake_channels(tmp_path / "missing.yml") == []


def test_it_refuses_sqlite_which_no_replica_could_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CHANNELS_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'hilo.db'}")
    with pytest.raises(NotForIntake, match="PostgreSQL"):
        check_database()
    monkeypatch.setenv("DATABASE_URL", "postgresql://hilo@db.example/hilo")
    check_database()
