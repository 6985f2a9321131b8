"""Where media files live: customers' photos and documents, and the bot's own (invoices).

Behind the `MediaStore` interface so a deployment can swap the local directory for object
storage. Files get unguessable names, and their URLs start with `HILO_PUBLIC_URL` (default:
the local Rasa server) and `/webhooks/media/files/<name>`. The Rasa server
(connectors/media.py) serves a file only on a **signed link** (`signed_url`: an HMAC of the
name and an expiry under Hilo's key, valid `HILO_MEDIA_LINK_TTL_HOURS`, 72 by default), which
the bot puts on what it sends (an invoice). A stored file's plain `url` opens nothing there:
customers' photos and documents are seen in the desk, by logged-in agents
(handoff/desk/app.py `/media/<name>`).

The action server writes here and the Rasa server reads, so both must see the same
directory: `HILO_MEDIA_DIR`, default `var/media/`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from hilo.keys import signing_key

REPO_ROOT = Path(__file__).resolve().parent.parent
FILES_PATH = "/webhooks/media/files"
# token + one known extension: nothing else is ever served (no paths, no traversal).
NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}\.(pdf|jpg|jpeg|png|webp|gif|mp4|ogg|mp3|m4a|txt)$")
# A stored name inside other text (a URL, a message body, a case's file list): which files
# something refers to (retention keeps the files of conversations it must keep).
_NAME_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_-])" + NAME.pattern[1:-1] + r"(?![A-Za-z0-9])")
# What `put` writes while a file is being written: "." + name + ".part".
_PARTIAL = re.compile(r"^\." + NAME.pattern[1:-1] + r"\.part$")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "txt": "text/plain",
}


def names_in(text: str) -> set[str]:
    """The stored media names that appear in `text` (URLs, JSON bodies)."""
    return {match.group(0) for match in _NAME_IN_TEXT.finditer(text)}


@dataclass(frozen=True)
class MediaFile:
    """A file in a local media directory, as retention sees it (no content)."""

    name: str  # the stored name, or the partial file's own name
    path: Path
    modified_at: float  # Unix seconds: when it was written
    size: int
    partial: bool  # a write that never finished (a crash between writing and renaming)


@dataclass(frozen=True)
class StoredMedia:
    """A stored file: its name in the store, public URL, content type and size."""

    name: str
    url: str
    content_type: str
    size: int


class MediaStore(Protocol):
    """Stores bytes under a new unguessable name and gives them back by that name."""

    def put(self, data: bytes, extension: str) -> StoredMedia:
        """Stores `data`; `extension` must be one of CONTENT_TYPES."""
        ...

    def path(self, name: str) -> Path | None:
        """The local file of a stored name, or None for anything not stored here."""
        ...

    def delete(self, name: str) -> bool:
        """Removes a stored file (a person's data erased); False if there was none."""
        ...


def public_base_url() -> str:
    """Where customers' devices reach the Rasa server (`HILO_PUBLIC_URL`)."""
    default = f"http://localhost:{os.environ.get('HILO_RASA_PORT', '5005')}"
    return os.environ.get("HILO_PUBLIC_URL", default).rstrip("/")


LINK_TTL_VARIABLE = "HILO_MEDIA_LINK_TTL_HOURS"
DEFAULT_LINK_TTL_HOURS = 72.0


@lru_cache(maxsize=1)
def _link_key() -> bytes:
    return hashlib.sha256(b"hilo media links\0" + signing_key()).digest()


def link_ttl_seconds() -> int:
    """How long a signed link opens its file (`HILO_MEDIA_LINK_TTL_HOURS`)."""
    hours = float(os.environ.get(LINK_TTL_VARIABLE) or DEFAULT_LINK_TTL_HOURS)
    return max(60, int(hours * 3600))


def _signature(name: str, expires: int) -> str:
    message = f"{name}\0{expires}".encode()
    return hmac.new(_link_key(), message, hashlib.sha256).hexdigest()[:40]


def signed_url(name: str, *, now: float | None = None) -> str:
    """A link to a stored file that the Rasa server opens until it expires."""
    expires = int((time.time() if now is None else now) + link_ttl_seconds())
    query = f"expires={expires}&signature={_signature(name, expires)}"
    return f"{public_base_url()}{FILES_PATH}/{name}?{query}"


def link_opens(name: str, expires: str, signature: str, *, now: float | None = None) -> bool:
    """Whether a link's expiry and signature are the ones Hilo signed, and still valid."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(name, int(expires)), signature)


class LocalMediaStore:
    """A directory on this machine (`HILO_MEDIA_DIR`, default var/media/)."""

    def __init__(self, directory: Path | None = None) -> None:
        """Uses `directory`, or `HILO_MEDIA_DIR`, or var/media/ (created when needed)."""
        configured = os.environ.get("HILO_MEDIA_DIR")
        self.directory = directory or (Path(configured) if configured else REPO_ROOT / "var/media")

    def put(self, data: bytes, extension: str) -> StoredMedia:
        """Writes the file atomically (a reader never sees half of it)."""
        extension = extension.lower().lstrip(".")
        if extension not in CONTENT_TYPES:
            raise ValueError(f"unsupported media type .{extension}")
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(24)}.{extension}"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(self.directory / name)
        return StoredMedia(
            name=name,
            url=f"{public_base_url()}{FILES_PATH}/{name}",
            content_type=CONTENT_TYPES[extension],
            size=len(data),
        )

    def path(self, name: str) -> Path | None:
        """The file for a well-formed stored name that exists; None otherwise."""
        if not NAME.fullmatch(name):
            return None
        candidate = self.directory / name
        return candidate if candidate.is_file() else None

    def delete(self, name: str) -> bool:
        """Removes the file of a well-formed stored name; False if there was none.

        Only names `put` could have made are touched (no paths), so a name read from a
        message body can never point outside the directory.
        """
        found = self.path(name)
        if found is None:
            return False
        found.unlink(missing_ok=True)
        return True

    def files(self) -> list[MediaFile]:
        """Every stored file and every unfinished write in the directory; nothing else."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            partial = bool(_PARTIAL.fullmatch(path.name))
            if not (partial or NAME.fullmatch(path.name)):
                continue
            try:
                status = path.stat()
            except FileNotFoundError:  # removed meanwhile
                continue
            if path.is_file():
                found.append(MediaFile(path.name, path, status.st_mtime, status.st_size, partial))
        return sorted(found, key=lambda item: item.name)

    def remove(self, item: MediaFile) -> bool:
        """Deletes a file `files()` listed; False if it was gone already."""
        if item.path.parent != self.directory or not (
            NAME.fullmatch(item.name) or _PARTIAL.fullmatch(item.name)
        ):
            raise ValueError("not a file of this media store")
        try:
            item.path.unlink()
        except FileNotFoundError:
            return False
        return True
