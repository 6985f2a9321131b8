"""Customers' files: the type read from the bytes, the size limit, the polite refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.media_inbound import check_and_store, sniff_extension
from connectors.media_store import LocalMediaStore
from connectors.messages import MediaRef
from connectors.settings import MediaLimits

SAMPLES = {
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00",
    "gif": b"GIF89a\x01\x00",
    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "pdf": b"%PDF-1.7\n",
    "ogg": b"OggS\x00\x02",
    "mp3": b"ID3\x04\x00",
    "mp4": b"\x00\x00\x00\x18ftypmp42",
}


@pytest.mark.parametrize(("extension", "data"), SAMPLES.items())
def test_types_are_read_from_the_bytes(extension: str, data: bytes) -> None:
    assert sniff_extension(data, "application/octet-stream") == extension


def test_a_voice_note_in_an_mp4_box_is_audio() -> None:
    assert sniff_extension(b"\x00\x00\x00\x18ftypM4A ", "audio/mp4") == "m4a"


def test_html_pretending_to_be_a_photo_is_not_a_photo() -> None:
    assert sniff_extension(b"<html><script>alert(1)</script>", "image/jpeg") is None
    assert sniff_extension(b"MZ\x90\x00", "application/pdf") is None


def test_plain_text_must_be_utf8_and_declared() -> None:
    assert sniff_extension("número de guía".encode(), "text/plain; charset=utf-8") == "txt"
    assert sniff_extension(b"\xff\xfe\x00bad", "text/plain") is None
    assert sniff_extension(b"just words", "application/octet-stream") is None


def test_accepted_files_are_stored_and_refused_ones_say_why(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    limits = MediaLimits(max_bytes=1000)
    ref = MediaRef(provider_ref="id-1", content_type="image/jpeg", filename="foto.jpg")
    stored = check_and_store(SAMPLES["png"] + b"\x00" * 10, "image/jpeg", ref, store, limits)
    assert stored.refused is None
    assert stored.content_type == "image/png"  # what the bytes are, not what was declared
    assert stored.stored_name
    assert store.path(stored.stored_name) is not None
    assert stored.filename == "foto.jpg"
    big = check_and_store(SAMPLES["png"] + b"\x00" * 2000, "image/png", ref, store, limits)
    assert big.refused == "too_large"
    bad = check_and_store(b"<svg onload=alert(1)>", "image/svg+xml", ref, store, limits)
    assert bad.refused == "type"
    assert len(list(tmp_path.iterdir())) == 1
