"""Customers' files: fetched with the channel's credentials, checked, kept in the media store.

A file is accepted when it is at most `HILO_MEDIA_MAX_BYTES` and its bytes are one of the
types the media store serves (photos, PDF, audio, video, plain text). The type is read from
the bytes, not from what the provider or the customer's phone declared, so a file is always
served as what it is. Anything else is refused with a reason; the core answers the customer
politely and the bot never sees a broken reference.

Photos (JPEG, PNG, WebP) are kept without their metadata: a phone's EXIF says where the
photo was taken (GPS), when, and with which device, and XMP can say the same again; none of
it is needed to see the photo, so none of it is stored (`without_metadata`). The EXIF
orientation is applied to the pixels first, so the photo still shows the right way up. HEIC
and AVIF photos (an iPhone's, sent as a file) are refused as a type the store does not serve:
their metadata cannot be removed without another library, and channels that send photos as
photos send JPEG. GIFs carry no EXIF and are kept as they are.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import warnings
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image, ImageOps

from connectors.adapter import ChannelSender
from connectors.errors import MediaError
from connectors.media_hosts import MediaHosts
from connectors.media_store import MediaStore
from connectors.messages import InboundMessage, MediaRef
from connectors.settings import MediaLimits

logger = logging.getLogger(__name__)


# ISO base media files that are still images, not audio or video (HEIF, HEIC, AVIF): an
# iPhone's photo sent as a file. They used to pass as "mp4".
_STILL_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
)


def sniff_extension(data: bytes, declared: str = "") -> str | None:
    """The media-store extension for these bytes, or None if they are not a served type."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"OggS"):
        return "ogg"
    frame_sync = len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    if head.startswith(b"ID3") or (frame_sync and declared.startswith("audio/")):
        return "mp3"
    if data[4:8] == b"ftyp" and data[8:12] in _STILL_IMAGE_BRANDS:
        return None  # HEIC/AVIF photos: not served, and their EXIF could not be removed here
    if data[4:8] == b"ftyp":
        return "m4a" if data[8:11] == b"M4A" or declared.startswith("audio/") else "mp4"
    if declared.split(";")[0].strip() == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "txt"
    return None


# What Pillow writes each photo type as, and the image information worth keeping: colour
# (the ICC profile), transparency and animation; never "exif", "xmp", comments or text.
_PHOTO_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "disposal", "blend", "background")
# Beyond this many pixels a photo is not decoded (memory): it is kept only if it has no metadata.
MAX_PHOTO_PIXELS = 64_000_000
# Signs of metadata in a file Pillow cannot read: EXIF (JPEG's APP1 header, PNG's eXIf chunk,
# WebP's EXIF chunk) and XMP packets. Such a file is refused rather than stored with them.
_METADATA_SIGNS = re.compile(rb"Exif\x00\x00|eXIf|EXIF|XMP |<x:xmpmeta|ns\.adobe\.com/xap/")


def without_metadata(data: bytes, extension: str) -> bytes | None:
    """A photo's bytes without EXIF, XMP, comments or text, its orientation applied.

    Other types come back unchanged. A JPEG that needs no rotation keeps its quantization
    tables (`quality="keep"`: no visible change); a rotated one is written at quality 95;
    PNG and lossless WebP stay lossless. A file that claims to be a photo but cannot be read
    (or is over MAX_PHOTO_PIXELS) is returned unchanged if it shows no sign of metadata, and
    None (refuse it) if it does.
    """
    kind = _PHOTO_FORMATS.get(extension)
    if kind is None:
        return data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != kind or image.width * image.height > MAX_PHOTO_PIXELS:
                    raise ValueError("not a photo Hilo decodes")
                image.load()
                return _rewritten(image, kind, data)
    except Exception:  # Pillow raises many kinds on bad input; any means "cannot clean it"
        return None if _METADATA_SIGNS.search(data) else data


def _rewritten(image: Image.Image, kind: str, original: bytes) -> bytes:
    """The image written again with only `_KEPT_INFO` (see `without_metadata`)."""
    keep = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    options: dict[str, Any] = {}
    frames = getattr(image, "n_frames", 1)
    if frames > 1:  # stickers: every frame, each with its own duration; never rotated
        durations = []
        for index in range(frames):
            image.seek(index)
            image.load()  # WebP reads a frame's duration as it decodes it
            durations.append(image.info.get("duration", 0))
        image.seek(0)
        options.update(save_all=True, duration=durations, loop=keep.get("loop", 0))
    rotated = image
    if frames == 1 and image.getexif().get(0x0112, 1) not in (None, 1):  # Orientation
        rotated = ImageOps.exif_transpose(image)
    rotated.info.clear()  # the original's too when nothing rotated: it is not used again
    rotated.info.update(keep)
    if "icc_profile" in keep:
        options["icc_profile"] = keep["icc_profile"]
    if kind == "JPEG":
        if rotated is image:
            options.update(quality="keep", subsampling="keep")
        else:
            options.update(quality=95)
    elif kind == "WEBP":
        lossless = original.find(b"VP8L") >= 0 and original.find(b"VP8 ") < 0
        options.update(lossless=lossless, quality=100 if lossless else 95)
    output = io.BytesIO()
    rotated.save(output, format=kind, **options)
    return output.getvalue()


def check_and_store(
    data: bytes, declared: str, media: MediaRef, store: MediaStore, limits: MediaLimits
) -> MediaRef:
    """Stores `data` if it is acceptable; the reference with where it went or why not.

    Photos are stored without their metadata (`without_metadata`); one that cannot be
    cleaned is refused as a type Hilo does not take.
    """
    if len(data) > limits.max_bytes:
        return replace(media, refused="too_large", size=len(data))
    extension = sniff_extension(data, declared or media.content_type)
    if extension is None:
        return replace(media, refused="type", size=len(data))
    cleaned = without_metadata(data, extension)
    if cleaned is None:
        return replace(media, refused="type", size=len(data))
    stored = store.put(cleaned, extension)
    return replace(
        media,
        content_type=stored.content_type,
        size=stored.size,
        stored_name=stored.name,
        stored_url=stored.url,
    )


MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    hosts: MediaHosts,
    max_bytes: int,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """GETs a file, stopping as soon as it passes `max_bytes`: (bytes, declared type).

    Only from `hosts` (connectors/media_hosts.py). Redirects are followed here, one at a time
    (Twilio's media URLs redirect to its CDN), so each hop is checked against the list
    before it is fetched; the headers (the provider's credentials) go only to the first
    URL's host.
    """
    first_host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        await hosts.check(url)
        sent = headers if urlsplit(url).hostname == first_host else None
        try:
            async with client.stream("GET", url, headers=sent, follow_redirects=False) as reply:
                if reply.status_code in _REDIRECTS and "location" in reply.headers:
                    url = str(reply.url.join(reply.headers["location"]))
                    continue
                if reply.status_code != 200:
                    raise MediaError("download", f"HTTP {reply.status_code}")
                declared = reply.headers.get("content-type", "")
                chunks: list[bytes] = []
                size = 0
                async for chunk in reply.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaError("too_large")
                    chunks.append(chunk)
        except httpx.HTTPError as error:
            raise MediaError("download", type(error).__name__) from error
        return b"".join(chunks), declared
    raise MediaError("download", "too many redirects")


async def store_inbound_media(
    message: InboundMessage, sender: ChannelSender, store: MediaStore, limits: MediaLimits
) -> InboundMessage:
    """The message with each of its files fetched and stored, or refused with a reason."""
    result = []
    for media in message.media:
        if media.stored_name or media.refused:
            result.append(media)
            continue
        if media.size is not None and media.size > limits.max_bytes:
            result.append(replace(media, refused="too_large"))
            continue
        try:
            data, declared = await sender.fetch_media(media)
        except MediaError as error:
            logger.warning(
                "connectors.media.refused channel=%s reason=%s", message.channel, error.reason
            )
            result.append(replace(media, refused=error.reason))
            continue
        # Off the event loop: cleaning a photo decodes and encodes it (tens of milliseconds).
        stored = await asyncio.to_thread(check_and_store, data, declared, media, store, limits)
        if stored.refused:
            logger.info(
                "connectors.media.refused channel=%s reason=%s", message.channel, stored.refused
            )
        result.append(stored)
    return message.with_media(tuple(result))
