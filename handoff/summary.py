"""What an agent reads first: the intent path, the data the bot collected, the last words.

Built from Rasa tracker events (the JSON dicts the action server and Rasa's HTTP API both
use), so the same function serves the handoff action (current session) and the desk (every
session). Nothing here is sent to the customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from handoff.case import MediaItem

# Slots that are the bot's own bookkeeping, not something the customer said.
INTERNAL_SLOTS = frozenset(
    {
        "requested_slot",
        "session_started_metadata",
        "handoff_active",
        "handoff_case_id",
        "order_verification",
        "verification_failures",
        "order_lookup_blocked",
        "order_verified",
        "verified_contact",
        "fallback_count",
    }
)
NOT_INTENTS = frozenset({"nlu_fallback", "session_start"})
LAST_MESSAGES = 3


@dataclass(frozen=True)
class Summary:
    """The gist of a conversation for the person taking over."""

    intents: tuple[str, ...]
    collected: dict[str, Any]
    last_messages: tuple[str, ...]
    media: tuple[MediaItem, ...] = ()
    customer_name: str | None = None
    profile_id: int | None = None
    last_customer_at: float | None = None

    def text(self, language: str) -> str:
        """One paragraph in the desk's language ("es" or "en")."""
        english = language == "en"
        parts = []
        if self.intents:
            parts.append(("Intents: " if english else "Intenciones: ") + " → ".join(self.intents))
        if self.collected:
            shown = ", ".join(f"{key}: {value}" for key, value in self.collected.items())
            parts.append(("Collected: " if english else "Datos: ") + shown)
        if self.last_messages:
            quoted = " / ".join(f"«{m}»" for m in self.last_messages)
            parts.append(("Last messages: " if english else "Últimos mensajes: ") + quoted)
        if self.media:
            count = len(self.media)
            parts.append(f"{count} file(s)" if english else f"{count} archivo(s)")
        return ". ".join(parts)


def summarize(events: Iterable[dict[str, Any]], slots: dict[str, Any]) -> Summary:
    """The summary of a conversation from its events and current slot values."""
    intents: list[str] = []
    messages: list[str] = []
    media: list[MediaItem] = []
    name: str | None = None
    profile: int | None = None
    last_at: float | None = None
    for event in events:
        if event.get("event") != "user":
            continue
        last_at = event.get("timestamp") or last_at
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent not in NOT_INTENTS and (not intents or intents[-1] != intent):
            intents.append(str(intent))
        text = str(event.get("text") or "").strip()
        metadata = event.get("metadata") or {}
        if text and not text.startswith("/"):
            messages.append(text[:200])
        for item in metadata.get("media") or ():
            if item.get("url"):
                media.append(
                    MediaItem(
                        url=str(item["url"]),
                        content_type=str(item.get("content_type") or ""),
                        filename=item.get("filename"),
                    )
                )
        name = metadata.get("display_name") or name
        profile = metadata.get("profile_id") or profile
    collected = {
        key: value
        for key, value in slots.items()
        if key not in INTERNAL_SLOTS and value not in (None, "", [], {})
    }
    return Summary(
        intents=tuple(intents[-8:]),
        collected=collected,
        last_messages=tuple(messages[-LAST_MESSAGES:]),
        media=tuple(media),
        customer_name=name,
        profile_id=int(profile) if profile is not None else None,
        last_customer_at=float(last_at) if last_at is not None else None,
    )
