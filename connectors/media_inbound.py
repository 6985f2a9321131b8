"""Customers' files: fetched with the channel's credentials, checked, kept in the media store.

A file is accepted when it is at most `HILO_MEDIA_MAX_BYTES` and its bytes are one of the
types the media store serves (photos, PDF, audio, video, plain text). The type is read from
the bytes, not from what the provider or the customer's phone declared, so a file is always
served as what it is. Anything else is refused with a reason; the core answers the customer
politely and the bot never sees a broken reference.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlsplit

import httpx

from connectors.adapter import ChannelSender
from connectors.errors import MediaError
from connectors.media_hosts import MediaHosts
from connectors.media_store import MediaStore
from connectors.messages import InboundMessage, MediaRef
from connectors.settings import MediaLimits

logger = logging.getLogger(__name__)


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
    if data[4:8] == b"ftyp":
        return "m4a" if data[8:11] == b"M4A" or declared.startswith("audio/") else "mp4"
    if declared.split(";")[0].strip() == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "txt"
    return None


def check_and_store(
    data: bytes, declared: str, media: MediaRef, store: MediaStore, limits: MediaLimits
) -> MediaRef:
    """Stores `data` if it is acceptable; the reference with where it went or why not."""
    if len(data) > limits.max_bytes:
        return replace(media, refused="too_large", size=len(data))
    extension = sniff_extension(data, declared or media.content_type)
    if extension is None:
        return replace(media, refused="type", size=len(data))
    stored = store.put(data, extension)
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
        stored = check_and_store(data, declared, media, store, limits)
        if stored.refused:
            logger.info(
                "connectors.media.refused channel=%s reason=%s", message.channel, stored.refused
            )
        result.append(stored)
    return message.with_media(tuple(result))
