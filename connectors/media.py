"""Serves stored media files (connectors/media_store.py) from the Rasa server, on signed links.

Registered in credentials.yml as the `media` channel so that it mounts on Rasa's Sanic app;
it receives no messages. `GET /webhooks/media/files/<name>?expires=…&signature=…` returns
the file with its content type when the link is one Hilo signed and has not expired (403
otherwise), or 404 for anything not stored (malformed names included). Providers fetch the
bot's attachments (invoices) here and customers open them; customers' own uploads are never
linked this way (the desk serves them to logged-in agents).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.media_store import CONTENT_TYPES, LocalMediaStore, MediaStore, link_opens


class MediaInput(InputChannel):
    """The file server for media links (invoices, customers' photos for the desk)."""

    def __init__(self, store: MediaStore | None = None) -> None:
        """Serves from `store` (default: the local media directory)."""
        self.store = store or LocalMediaStore()

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/media/."""
        return "media"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MediaInput:
        """No credentials: the files' names are the keys."""
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET /files/<name> and a health route."""
        media = Blueprint("media_files", __name__)

        @media.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @media.route("/files/<name>", methods=["GET"])
        async def serve(request: Request, name: str) -> HTTPResponse:
            path = self.store.path(name)
            if path is None:
                return response.json({"error": "not found"}, status=404)
            expires = request.args.get("expires") or ""
            signature = request.args.get("signature") or ""
            if not link_opens(name, expires, signature):
                return response.json({"error": "this link is not valid or has expired"}, status=403)
            extension = name.rsplit(".", 1)[1].lower()
            return await response.file(
                str(path),
                mime_type=CONTENT_TYPES[extension],
                headers={
                    "Content-Disposition": f'inline; filename="{name}"',
                    "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "private, max-age=3600",
                },
            )

        return media
