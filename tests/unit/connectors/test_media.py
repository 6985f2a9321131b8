"""The media store: unguessable names, nothing else served, signed links that expire (the
file server itself: tests/integration/connectors/test_media.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from connectors.media_store import LocalMediaStore, link_opens, signed_url


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


def test_a_signed_link_opens_its_file_until_it_expires(
    store: LocalMediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example")
    monkeypatch.setenv("HILO_MEDIA_LINK_TTL_HOURS", "1")
    name = store.put(b"%PDF-1.4 x", "pdf").name
    link = httpx.URL(signed_url(name, now=1_000_000.0))
    assert str(link).startswith(f"https://hilo.example/webhooks/media/files/{name}?")
    expires, signature = link.params["expires"], link.params["signature"]
    assert int(expires) == 1_000_000 + 3600
    assert link_opens(name, expires, signature, now=1_000_000.0 + 3599)
    assert not link_opens(name, expires, signature, now=1_000_000.0 + 3601)  # expired
    assert not link_opens(name, str(int(expires) + 86400), signature, now=1_000_000.0)
    other = store.put(b"%PDF-1.4 y", "pdf").name
    assert not link_opens(other, expires, signature, now=1_000_000.0)  # another file
    assert not link_opens(name, expires, "0" * 40, now=1_000_000.0)
    assert not link_opens(name, "", "", now=1_000_000.0)
    assert not link_opens(name, "1e99", signature, now=1_000_000.0)


def test_files_lists_stored_files_and_unfinished_writes_only(store: LocalMediaStore) -> None:
    photo = store.put(b"\xff\xd8\xff\xe0 photo", "jpg")
    partial = store.directory / f".{'p' * 32}.pdf.part"
    partial.write_bytes(b"half")
    (store.directory / "notes.txt").write_text("the operator's own file")
    listed = {item.name: item for item in store.files()}
    assert set(listed) == {photo.name, partial.name}
    assert listed[partial.name].partial
    assert not listed[photo.name].partial
    assert listed[photo.name].size == photo.size
    assert store.remove(listed[photo.name])
    assert not store.remove(listed[photo.name])  # gone already
    assert store.path(photo.name) is None
    assert (store.directory / "notes.txt").exists()


def test_names_are_found_inside_urls_and_bodies() -> None:
    from connectors.media_store import names_in

    name = "x" * 32 + ".jpg"
    text = f'{{"url": "https://h/webhooks/media/files/{name}?expires=1", "n": "{name}"}}'
    assert names_in(text) == {name}
    assert names_in("y" * 70 + ".jpg") == set()  # part of a longer token is not a name
