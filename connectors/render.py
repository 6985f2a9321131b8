"""From a Rasa response to the parts a channel can carry, and numbered replies back.

Texts longer than a channel's limit are split at paragraph, line, sentence or word
boundaries. Channels without native buttons (SMS, Twilio WhatsApp without pre-approved
content, more buttons than a channel shows) get them as a numbered list, and a reply such
as "2" or the button's title is mapped back to the button's payload.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from connectors.messages import Button, OutboundPart

_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut where a reader expects a break."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for mark in _BREAKS:
            position = window.rfind(mark)
            if position >= limit // 2:
                cut = position + len(mark)
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def buttons_of(items: Iterable[dict[str, Any]] | None) -> tuple[Button, ...]:
    """Rasa buttons / quick replies (`{"title", "payload"}`) as `Button`s."""
    result = []
    for item in items or ():
        title = str(item.get("title") or item.get("payload") or "").strip()
        payload = str(item.get("payload") or title).strip()
        if title:
            result.append(Button(title=title, payload=payload))
    return tuple(result)


def parts_from_response(message: dict[str, Any]) -> list[OutboundPart]:
    """The parts of one Rasa response: text (with buttons), image, document.

    Handles Rasa's keys (`text`, `buttons`, `quick_replies`, `image`, `attachment`) and the
    custom payload Hilo's actions send for files: `{"document": {"url", "filename"}}`.
    Other custom payloads are not shown to customers.
    """
    parts: list[OutboundPart] = []
    text = str(message.get("text") or "").strip()
    buttons = buttons_of(message.get("buttons") or message.get("quick_replies"))
    if text or buttons:
        parts.append(OutboundPart(text=text, buttons=buttons))
    custom = message.get("custom")
    if isinstance(custom, dict):
        document = custom.get("document")
        if isinstance(document, dict) and document.get("url"):
            parts.append(
                OutboundPart(
                    document_url=str(document["url"]), filename=document.get("filename") or None
                )
            )
        if isinstance(custom.get("image"), str):
            parts.append(OutboundPart(image_url=custom["image"]))
    if isinstance(message.get("image"), str) and message["image"]:
        parts.append(OutboundPart(image_url=message["image"]))
    attachment = message.get("attachment")
    if isinstance(attachment, str) and attachment:
        parts.append(OutboundPart(document_url=attachment))
    elif isinstance(attachment, dict) and attachment.get("url"):
        parts.append(
            OutboundPart(document_url=str(attachment["url"]), filename=attachment.get("filename"))
        )
    return parts


def split_part(
    part: OutboundPart, limit: int, buttons_limit: int | None = None
) -> list[OutboundPart]:
    """A text part cut to the channel's limit; buttons stay on the last piece.

    `buttons_limit`: a shorter limit for text that carries buttons (WhatsApp's interactive
    body is 1,024 characters against 4,096 for plain text).
    """
    last_limit = min(limit, buttons_limit or limit) if part.buttons else limit
    if not part.text or len(part.text) <= last_limit:
        return [part]
    pieces = split_text(part.text, limit)
    if len(pieces[-1]) > last_limit:
        pieces = pieces[:-1] + split_text(pieces[-1], last_limit)
    head = [
        replace(part, text=piece, buttons=(), image_url=None, document_url=None, filename=None)
        for piece in pieces[:-1]
    ]
    return [*head, replace(part, text=pieces[-1])]


def numbered(text: str, buttons: tuple[Button, ...]) -> str:
    """The text followed by the choices as a numbered list ("1. Sí")."""
    lines = [f"{index}. {button.title}" for index, button in enumerate(buttons, start=1)]
    return "\n".join([text, "", *lines]) if text else "\n".join(lines)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^\w]+", " ", folded).strip()


def match_button(text: str, offered: tuple[Button, ...], *, numbered_list: bool) -> Button | None:
    """The offered button a typed reply means: its number (numbered lists) or its title."""
    reply = text.strip().rstrip(".)")
    if numbered_list and reply.isdigit() and 1 <= int(reply) <= len(offered):
        return offered[int(reply) - 1]
    folded = _fold(text)
    if not folded:
        return None
    for button in offered:
        if _fold(button.title) == folded:
            return button
    return None
