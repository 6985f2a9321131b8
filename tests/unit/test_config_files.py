"""endpoints.yml and credentials.yml resolve to what Hilo runs with."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.utils import AvailableEndpoints
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file


def test_action_endpoint_follows_the_port_variable(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILO_ACTIONS_PORT", "6123")
    endpoints = AvailableEndpoints.read_endpoints(str(root / "endpoints.yml"))
    assert endpoints.action.url == "http://127.0.0.1:6123/webhook"


def test_tracker_store_and_nlg_are_hilos(root: Path) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(root / "endpoints.yml"))
    store = class_from_module_path(endpoints.tracker_store.type)
    nlg = class_from_module_path(endpoints.nlg.type)
    assert store.__name__ == "WindowedSQLTrackerStore"
    assert endpoints.tracker_store.kwargs["db"] == "var/tracker.db"
    assert nlg.__name__ == "HiloNLG"


def test_credentials_enable_the_rest_channel(root: Path) -> None:
    assert "rest" in read_config_file(str(root / "credentials.yml"))
