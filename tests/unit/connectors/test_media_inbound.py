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


def _photo_with_location(orientation: int = 6, kind: str = "JPEG") -> bytes:
    """A real photo as a phone writes it: GPS position, camera make, XMP and a comment."""
    import io

    from PIL import ExifTags, Image

    image = Image.new("RGB", (40, 20), (200, 10, 10))
    image.paste((0, 0, 255), (0, 0, 20, 8))  # a blue top-left block, to see where it ends up
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (19.0, 25.0, 42.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (99.0, 7.0, 39.0),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>19,25N</exif:GPSLatitude>'
    xmp += b"</x:xmpmeta>"
    output = io.BytesIO()
    extra = {"comment": b"casa de Ana"} if kind == "JPEG" else {}
    image.save(output, format=kind, exif=exif, xmp=xmp, **extra)
    return output.getvalue()


def _metadata(data: bytes) -> dict:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return {
            "exif": dict(image.getexif()),
            "info": sorted(key for key in image.info if key in ("exif", "xmp", "comment")),
            "size": image.size,
        }


@pytest.mark.parametrize(("extension", "kind"), [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_photos_are_stored_without_location_or_other_metadata(
    tmp_path: Path, extension: str, kind: str
) -> None:
    store = LocalMediaStore(tmp_path)
    original = _photo_with_location(kind=kind)
    before = _metadata(original)
    assert before["exif"]
    assert 0x8825 in before["exif"]  # the GPS directory is there to begin with
    ref = MediaRef(provider_ref="id-1", content_type=f"image/{kind.lower()}")
    stored = check_and_store(original, "", ref, store, MediaLimits(max_bytes=10**6))
    assert stored.refused is None
    assert stored.stored_name
    path = store.path(stored.stored_name)
    assert path is not None
    data = path.read_bytes()
    after = _metadata(data)
    assert after["exif"] == {}
    assert after["info"] == []
    for sign in (b"Exif\x00\x00", b"eXIf", b"xmpmeta", b"GPSLatitude", b"PhoneCo", b"casa de"):
        assert sign not in data
    assert stored.size == len(data)
    assert sniff_extension(data) == extension


def test_the_orientation_is_applied_before_it_is_dropped(tmp_path: Path) -> None:
    """Orientation 6 (rotate 90° clockwise to view): stored upright, no tag left to apply."""
    import io

    from PIL import Image

    from connectors.media_inbound import without_metadata

    upright = without_metadata(_photo_with_location(orientation=6), "jpg")
    assert upright is not None
    with Image.open(io.BytesIO(upright)) as image:
        assert image.size == (20, 40)  # was 40 x 20, shown turned
        pixels = image.convert("RGB")
        assert pixels.getpixel((16, 5))[2] > 150  # the blue block is now at the top right
        assert pixels.getpixel((0, 5))[0] > 150  # and the left side is red
        assert pixels.getpixel((16, 35))[0] > 150
    as_taken = without_metadata(_photo_with_location(orientation=1), "jpg")
    assert as_taken is not None
    with Image.open(io.BytesIO(as_taken)) as image:
        assert image.size == (40, 20)


def test_a_broken_photo_with_metadata_is_refused_and_one_without_is_kept(tmp_path: Path) -> None:
    from connectors.media_inbound import without_metadata

    broken_with_gps = b"\xff\xd8\xff\xe1\x00\x20Exif\x00\x00MM\x00*" + b"\x00" * 40
    assert without_metadata(broken_with_gps, "jpg") is None
    store = LocalMediaStore(tmp_path)
    ref = MediaRef(provider_ref="id-1", content_type="image/jpeg")
    refused = check_and_store(broken_with_gps, "", ref, store, MediaLimits(max_bytes=1000))
    assert refused.refused == "type"
    assert list(tmp_path.iterdir()) == []
    plain = SAMPLES["jpg"] + b"\x00" * 40
    assert without_metadata(plain, "jpg") == plain  # nothing to leak: kept as it was
    pdf = b"%PDF-1.7 Exif\x00\x00"
    assert without_metadata(pdf, "pdf") == pdf  # documents are not photos


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"avif"])
def test_heic_and_avif_photos_are_refused_not_stored_as_video(brand: bytes) -> None:
    """An iPhone photo sent as a file: its EXIF cannot be removed here, so it is not kept."""
    assert sniff_extension(b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00", "") is None
    assert sniff_extension(b"\x00\x00\x00\x18ftypisom", "video/mp4") == "mp4"
