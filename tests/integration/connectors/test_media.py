"""The media file server on the Rasa server's Sanic app, over real HTTP (connectors/media.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.media import MediaInput
from connectors.media_store import LocalMediaStore, signed_url
from tests.support.channel_app import ChannelApp


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path)


@pytest.fixture
def served(store: LocalMediaStore) -> Iterator[ChannelApp]:
    app = ChannelApp([MediaInput(store)])
    try:
        yield app
    finally:
        app.close()


def path_of(link: str) -> str:
    url = httpx.URL(link)
    return url.raw_path.decode()


def test_a_signed_link_serves_the_file(served: ChannelApp, store: LocalMediaStore) -> None:
    stored = store.put(b"%PDF-1.4 factura", "pdf")
    reply = served.get(path_of(signed_url(stored.name)))
    assert reply.status_code == 200
    assert reply.content == b"%PDF-1.4 factura"
    assert reply.headers["content-type"] == "application/pdf"


def test_a_stored_file_without_a_valid_signature_is_not_served(
    served: ChannelApp, store: LocalMediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer's photo: its plain URL (what the desk maps to /media/) opens nothing here."""
    photo = store.put(b"\xff\xd8\xff\xe0 photo", "jpg")
    assert served.get(path_of(photo.url)).status_code == 403
    link = httpx.URL(signed_url(photo.name))
    tampered = link.copy_set_param("expires", str(int(link.params["expires"]) + 86400))
    assert served.get(path_of(str(tampered))).status_code == 403
    monkeypatch.setenv("HILO_MEDIA_LINK_TTL_HOURS", "1")
    expired = signed_url(photo.name, now=0.0)
    assert served.get(path_of(expired)).status_code == 403


def test_unknown_files_are_404(served: ChannelApp) -> None:
    assert served.get("/webhooks/media/files/" + "a" * 30 + ".pdf").status_code == 404
    assert served.get("/webhooks/media/files/..%2f..%2fetc%2fpasswd").status_code == 404
