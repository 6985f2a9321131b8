"""Imports flow one way: a module never imports one of the layers above it.

Read from the source (ast), so the check also sees imports inside functions and under
TYPE_CHECKING, which is how the old circle between the channel base, the hub and media
downloads hid (the base imported the hub "only for types", and the hub imported the base).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.imports import heavy_modules_loaded

# Lowest first; a module may import its own layer and the layers listed before it.
CHANNEL_LAYERS = [
    # the adapter base and what it stands on: no hub, no webhook, no channel
    {
        "connectors.adapter",
        "connectors.errors",
        "connectors.messages",
        "connectors.windows",
        "connectors.registry",
        "connectors.render",
        "connectors.settings",
        "connectors.storage",
        "connectors.leases",
        "connectors.media_hosts",
        "connectors.media_store",
        "connectors.media_inbound",
        "connectors.inbox",
        "connectors.outbox",
        "connectors.customers",
        "connectors.history",
        "connectors.dispatcher",
        "connectors.notifications",
        "connectors.rasa_errors",
        "connectors.retention",
        "connectors.personal_data",
    },
    {"connectors.core"},  # the hub
    {"connectors.webhook"},  # the webhook input and output over the hub
    # one module per channel, and what serves them
    {
        "connectors.whatsapp",
        "connectors.twilio",
        "connectors.messenger",
        "connectors.telegram",
        "connectors.sandbox",
        "connectors.local",
        "connectors.status",
        "connectors.meta",
        "connectors.media",
        "connectors.intake",
    },
]
# Packages: hilo is below everything; handoff and actions build on connectors, never the reverse;
# privacy is above them all (it finds a person in every store), so nothing below imports it.
FORBIDDEN = {
    "hilo": ("connectors", "handoff", "actions", "components", "privacy", "crm"),
    "connectors": ("handoff", "actions", "privacy", "crm"),
    "actions": ("privacy", "crm"),
    "components": ("privacy", "crm"),
    "privacy": ("crm",),
    "crm": ("actions", "components", "privacy", "rasa", "rasa_sdk"),
}
# What of the handoff privacy stands on: its store layer, never the desk or the command that
# answer requests through privacy (they import it), nor what talks to Rasa.
HANDOFF_FOR_PRIVACY = {
    "handoff.case",
    "handoff.database",
    "handoff.facts",
    "handoff.nlu_candidates",
    "handoff.models",
    "handoff.ownership_store",
    "handoff.personal_data",
    "handoff.retention",
    "handoff.store",
}
# The only handoff modules that may import privacy: the desk and `hilo` answer requests.
PRIVACY_USERS = ("handoff.desk", "handoff.cli")
# The CRM feed (crm/) reads the stores: the handoff's store layer and the channels' tables and
# query API; only `hilo` (handoff/cli.py) imports it, to wire its commands and the desk's job.
HANDOFF_FOR_CRM = {
    "handoff.case",
    "handoff.database",
    "handoff.models",
    "handoff.personal_data",
    "handoff.store",
}
CONNECTORS_FOR_CRM = {"connectors.storage", "connectors.history", "connectors.messages"}
CRM_USERS = ("handoff.cli",)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("layer", range(len(CHANNEL_LAYERS)))
def test_the_channels_core_imports_only_downwards(layer: int) -> None:
    above = set().union(*CHANNEL_LAYERS[layer + 1 :])
    for name in CHANNEL_LAYERS[layer]:
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            continue
        upward = imports_of(path) & above
        assert not upward, f"{name} imports {sorted(upward)}, which build on it"


def test_every_channels_module_has_a_layer() -> None:
    placed = set().union(*CHANNEL_LAYERS) | {"connectors.server", "connectors.rasa_stores"}
    modules = {module_name(path) for path in (ROOT / "connectors").glob("*.py")}
    assert modules - placed - {"connectors.__init__"} == set()


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = {name for name in imports_of(path) if name.split(".")[0] in FORBIDDEN[package]}
        assert not bad, f"{module_name(path)} imports {sorted(bad)}"


def test_privacy_stands_on_the_stores_and_only_the_desk_and_the_cli_use_it() -> None:
    for path in (ROOT / "privacy").rglob("*.py"):
        handoff = {
            ".".join(name.split(".")[:2])
            for name in imports_of(path)
            if name.split(".")[0] == "handoff" and name != "handoff"  # `from handoff import x`
        }
        assert handoff <= HANDOFF_FOR_PRIVACY, f"{module_name(path)} imports {handoff}"
    for path in (ROOT / "handoff").rglob("*.py"):
        if module_name(path).startswith(PRIVACY_USERS):
            continue
        used = {name for name in imports_of(path) if name.split(".")[0] == "privacy"}
        assert not used, f"{module_name(path)} imports {sorted(used)}"


def test_crm_stands_on_the_stores_and_only_the_cli_wires_it() -> None:
    for path in (ROOT / "crm").rglob("*.py"):
        used = {".".join(name.split(".")[:2]) for name in imports_of(path)}
        handoff = {name for name in used if name.startswith("handoff.")}
        assert handoff <= HANDOFF_FOR_CRM, f"{module_name(path)} imports {handoff}"
        connectors = {name for name in used if name.startswith("connectors.")}
        assert connectors <= CONNECTORS_FOR_CRM, f"{module_name(path)} imports {connectors}"
    for package in ("handoff", "connectors", "hilo", "privacy", "actions", "components"):
        for path in (ROOT / package).rglob("*.py"):
            if module_name(path).startswith(CRM_USERS):
                continue
            used = {name for name in imports_of(path) if name.split(".")[0] == "crm"}
            assert not used, f"{module_name(path)} imports {sorted(used)}"


def test_answering_a_privacy_request_loads_no_channel() -> None:
    """The desk erases and exports in its own process, which runs without Rasa (security.md)."""
    assert (
        heavy_modules_loaded("privacy.cli", "privacy.erase", "privacy.export", "privacy.inventory")
        == []
    )


def test_the_desk_reads_the_channels_through_their_query_api() -> None:
    """handoff/ uses connectors/history.py, never the channels' tables themselves."""
    tables = {
        f"connectors.storage.{name}"
        for name in ("inbound", "outbound", "profiles", "conversations")
    }
    for path in (ROOT / "handoff").rglob("*.py"):
        used = imports_of(path) & tables
        assert not used, f"{module_name(path)} reads {sorted(used)} directly"


def test_the_desk_asks_the_adapters_rules_for_windows_and_templates() -> None:
    """handoff/ gets a conversation's window from connectors/registry.py `window_rules`.

    It neither works one out from connectors/windows.py nor reads a channel's settings to
    tell whether a template is configured: that was a second switch on channel names, and
    it disagreed with the adapters (a Twilio SMS conversation was offered the template).
    """
    for path in (ROOT / "handoff").rglob("*.py"):
        used = {
            name
            for name in imports_of(path)
            if name.split(".")[:2] == ["connectors", "windows"]
            or (name.startswith("connectors.settings.") and name.endswith("Settings"))
        }
        assert not used, f"{module_name(path)} imports {sorted(used)}"


def test_asking_for_window_rules_loads_no_channel() -> None:
    """The desk and the action server ask without Rasa, Sanic or a provider's library.

    The desk runs in an environment without them (docs/security.md), and the action server
    parks cases (handoff/service.py): the rules are importable on their own.
    """
    assert heavy_modules_loaded("connectors.registry", "handoff.service", "handoff.desk.app") == []
