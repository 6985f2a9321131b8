"""The media store: unguessable names, nothing else served (the file server itself is
tested through the running Hilo in tests/integration/test_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.media_store import LocalMediaStore


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path)


def test_put_gives_an_unguessable_name_and_the_public_url(
    store: LocalMediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example/")
    first = store.put(b"%PDF-1.4 x", "pdf")
    second = store.put(b"%PDF-1.4 x", "pdf")
    assert first.name != second.name
    assert len(first.name) > 30
    assert first.url == f"https://hilo.example/webhooks/media/files/{first.name}"
    assert first.content_type == "application/pdf"
    assert store.path(first.name) is not None


@pytest.mark.parametrize("name", ["../etc/passwd", "x.pdf", "a" * 30 + ".exe", "", "%2e%2e.pdf"])
def test_malformed_or_unknown_names_are_not_served(store: LocalMediaStore, name: str) -> None:
    assert store.path(name) is None


def test_unsupported_types_are_refused(store: LocalMediaStore) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        store.put(b"MZ", "exe")
