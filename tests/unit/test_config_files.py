"""endpoints.yml and credentials.yml resolve to what Hilo runs with."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.utils import AvailableEndpoints
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file

from connectors.server import ACTIONS_TOKEN_HEADER, configure_action_endpoint


def test_rasa_run_typed_by_hand_reaches_the_action_server(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No variable set (a Rasa user without the Makefile): the action server's default port."""
    monkeypatch.delenv("HILO_ACTIONS_PORT", raising=False)
    endpoints = AvailableEndpoints.read_endpoints(str(root / "endpoints.yml"))
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"


def test_hilos_server_follows_the_port_variable_and_sends_the_token(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AvailableEndpoints, "read_endpoints", AvailableEndpoints.read_endpoints)
    monkeypatch.setenv("HILO_ACTIONS_PORT", "6123")
    configure_action_endpoint("a-token")
    endpoints = AvailableEndpoints.read_endpoints(str(root / "endpoints.yml"))
    assert endpoints.action.url == "http://127.0.0.1:6123/webhook"
    assert endpoints.action.headers[ACTIONS_TOKEN_HEADER] == "a-token"


def test_tracker_store_and_nlg_are_hilos(root: Path) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(root / "endpoints.yml"))
    store = class_from_module_path(endpoints.tracker_store.type)
    nlg = class_from_module_path(endpoints.nlg.type)
    assert store.__name__ == "WindowedSQLTrackerStore"
    assert endpoints.tracker_store.kwargs["db"] == "var/tracker.db"
    assert nlg.__name__ == "HiloNLG"


def test_credentials_mount_rest_only_through_the_local_only_channel(root: Path) -> None:
    """`make shell` needs REST; Rasa's own `rest` would be open to anyone (docs/security.md)."""
    mounted = read_config_file(str(root / "credentials.yml"))
    assert "connectors.local.LocalRestInput" in mounted
    assert "rest" not in mounted


CHANNELS = {
    "connectors.sandbox.SandboxInput": "sandbox",
    "connectors.whatsapp.WhatsAppInput": "whatsapp",
    "connectors.twilio.TwilioInput": "twilio",
    "connectors.messenger.MessengerInput": "messenger",
    "connectors.telegram.TelegramInput": "telegram",
}


def test_credentials_mount_every_channel_at_its_contract_path(root: Path) -> None:
    credentials = read_config_file(str(root / "credentials.yml"))
    for path, name in CHANNELS.items():
        assert path in credentials
        channel = class_from_module_path(path)
        assert channel.name() == name  # the webhook is /webhooks/<name>/webhook
        assert channel.from_credentials(credentials[path]).get_output_channel() is not None or (
            name != "sandbox"  # provider channels need their variables first
        )


def test_env_example_lists_every_variable_the_channels_handoff_and_privacy_read(
    root: Path,
) -> None:
    listed = {
        line.split("=", 1)[0]
        for line in (root / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    import ast

    read: set[str] = set()
    for module in [
        *(root / "connectors").glob("*.py"),
        *(root / "handoff").rglob("*.py"),
        *(root / "privacy").rglob("*.py"),
        *(root / "crm").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", ""))
                in {"_env", "_secret", "_base", "_int", "get"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value.isupper()
            ):
                read.add(node.args[0].value)
    assert read
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"
