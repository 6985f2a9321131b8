"""The events the CRM receives: their names, and their payloads built from Hilo's records.

Every body is an envelope::

    {"id": "<X-Hilo-Delivery>", "type": "case.opened", "occurred_at": "2026-12-07T10:00:00Z",
     "data": {...}}

and `data` has one shape per event, described by JSON Schema in `crm/schemas/events.json`
(docs/webhooks.md points to it; a test validates every event the feed makes against it).
The builders here are pure: crm/feed.py reads the records and calls them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

CONTACT_UPDATED = "contact.updated"
CASE_OPENED = "case.opened"
CASE_ASSIGNED = "case.assigned"
CASE_RESOLVED = "case.resolved"
CASE_REOPENED = "case.reopened"
CONVERSATION_SUMMARY = "conversation.summary"
CSAT_RECEIVED = "csat.received"
EVENTS = (
    CONTACT_UPDATED,
    CASE_OPENED,
    CASE_ASSIGNED,
    CASE_RESOLVED,
    CASE_REOPENED,
    CONVERSATION_SUMMARY,
    CSAT_RECEIVED,
)
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
LAST_MESSAGES = 5  # how many of a conversation's latest messages a summary quotes
TEXT_LIMIT = 1000  # characters of one quoted message


def iso(at: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC ("2026-12-07T10:00:00.250Z"); None stays None."""
    if at is None:
        return None
    moment = datetime.fromtimestamp(at, tz=timezone.utc)
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def envelope(delivery_id: str, event: str, occurred_at: float, data: dict[str, Any]) -> bytes:
    """The exact body sent (and signed): compact UTF-8 JSON."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    body = {"id": delivery_id, "type": event, "occurred_at": iso(occurred_at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def case_url(desk_url: str, case_id: int) -> str:
    """Where an agent opens the case (and the conversation's whole history) in the desk."""
    return f"{desk_url}/#case={quote(str(case_id))}"


def case_data(case: dict[str, Any], desk_url: str, *, status: str | None = None) -> dict[str, Any]:
    """The case as every case event carries it.

    Args:
        case: A `handoff_cases` row as a dict (`collected`, `corrections` as JSON text or
            dicts), plus `assignee` (`{"id", "username", "display_name"}` or None).
        desk_url: HILO_DESK_URL, for the link.
        status: The status at the event's time (default: the row's).
    """
    return {
        "id": int(case["id"]),
        "url": case_url(desk_url, int(case["id"])),
        "conversation_id": case["conversation_id"],
        "channel": case["channel"],
        "profile_id": case.get("profile_id"),
        "customer_name": case.get("customer_name"),
        "status": status or case["status"],
        "reason": case["reason"],
        "priority": case["priority"],
        "language": case["language"],
        "team": case.get("team"),
        "assignee": case.get("assignee"),
        "created_at": iso(case["created_at"]),
        "assigned_at": iso(case.get("assigned_at")),
        "first_reply_at": iso(case.get("first_reply_at")),
        "resolved_at": iso(case.get("resolved_at")),
        "sla_due_at": iso(case.get("sla_due_at")),
        "collected": _object(case.get("collected")),
        "summary": case.get("summary") or "",
    }


def case_opened(case: dict[str, Any], desk_url: str) -> dict[str, Any]:
    """`case.opened`: a conversation was handed to people."""
    return {"case": case_data(case, desk_url, status="queued")}


def case_assigned(
    case: dict[str, Any], desk_url: str, assignee: dict[str, Any] | None, actor: str
) -> dict[str, Any]:
    """`case.assigned`: an agent took it, was given it, or it was transferred to them."""
    data = case_data(case, desk_url, status="assigned")
    data["assignee"] = assignee
    return {"case": data, "by": actor}


def case_resolved(case: dict[str, Any], desk_url: str, resolution: str) -> dict[str, Any]:
    """`case.resolved`: settled; `resolution` "resolved" (back to the bot) or "closed"."""
    return {
        "case": case_data(case, desk_url, status=resolution),
        "resolution": resolution,
        "outcome": case.get("outcome"),
        "corrections": _object(case.get("corrections")),
    }


def case_reopened(case: dict[str, Any], desk_url: str) -> dict[str, Any]:
    """`case.reopened`: the customer wrote to a closed case, and it waits for people again.

    Without it a CRM that saw `case.resolved` with `closed` kept the case as done while the
    desk's queue had it again.
    """
    return {"case": case_data(case, desk_url, status="queued")}


def csat_received(case: dict[str, Any], desk_url: str, score: int) -> dict[str, Any]:
    """`csat.received`: the customer rated the service after a case (1..5)."""
    return {
        "case_id": int(case["id"]),
        "case_url": case_url(desk_url, int(case["id"])),
        "conversation_id": case["conversation_id"],
        "channel": case["channel"],
        "profile_id": case.get("profile_id"),
        "score": int(score),
        "comment": case.get("csat_comment"),
        "answered_at": iso(case.get("csat_at")),
    }


def contact_updated(
    profile_id: int,
    phone: str | None,
    display_name: str | None,
    identities: list[dict[str, Any]],
) -> dict[str, Any]:
    """`contact.updated`: a customer and every channel identity linked to them.

    `identities`: `{"channel", "conversation_id", "display_name", "first_seen_at",
    "last_inbound_at"}` per conversation of the profile (times in Unix seconds).
    """
    return {
        "profile_id": int(profile_id),
        "phone": phone,
        "display_name": display_name,
        "identities": [
            {
                "channel": item["channel"],
                "conversation_id": item["conversation_id"],
                "display_name": item.get("display_name"),
                "first_seen_at": iso(item.get("first_seen_at")),
                "last_inbound_at": iso(item.get("last_inbound_at")),
            }
            for item in sorted(identities, key=lambda item: str(item["conversation_id"]))
        ],
    }


def conversation_summary(
    *,
    conversation_id: str,
    channel: str,
    profile_id: int | None,
    started_at: float,
    last_message_at: float,
    quiet_seconds: float,
    counts: dict[str, int],
    last_messages: list[dict[str, Any]],
    cases: list[dict[str, Any]],
    desk_url: str,
) -> dict[str, Any]:
    """`conversation.summary`: a conversation went quiet; what happened since the last one.

    Args:
        conversation_id: The channel identity ("whatsapp:+52155…").
        channel: Its channel.
        profile_id: The customer profile (None if the channels have not linked it).
        started_at: When the first message of this stretch was received.
        last_message_at: When the customer last wrote.
        quiet_seconds: The quiet period that ended it.
        counts: Messages by author: `customer`, `bot`, `agent`, `system`.
        last_messages: The latest messages, oldest first: `{"at", "from", "text"}`.
        cases: The conversation's cases, `handoff_cases` rows as dicts (newest first).
        desk_url: HILO_DESK_URL, for the transcript link.
    """
    latest = cases[0] if cases else None
    return {
        "conversation_id": conversation_id,
        "channel": channel,
        "profile_id": profile_id,
        "started_at": iso(started_at),
        "last_message_at": iso(last_message_at),
        "quiet_minutes": round(quiet_seconds / 60, 2),
        "messages": {
            name: int(counts.get(name, 0)) for name in ("customer", "bot", "agent", "system")
        },
        "last_messages": [
            {
                "at": iso(item["at"]),
                "from": item["from"],
                "text": str(item.get("text") or "")[:TEXT_LIMIT],
            }
            for item in last_messages[-LAST_MESSAGES:]
        ],
        "cases": [
            {
                "id": int(case["id"]),
                "status": case["status"],
                "reason": case["reason"],
                "url": case_url(desk_url, int(case["id"])),
            }
            for case in cases
        ],
        # The desk shows a conversation's whole history on its latest case.
        "transcript_url": case_url(desk_url, int(latest["id"])) if latest else None,
    }


SCHEMA_FILE = SCHEMA_DIR / "events.json"


@lru_cache(maxsize=1)
def schemas() -> dict[str, Any]:
    """crm/schemas/events.json: the JSON Schema (draft 2020-12) of every event."""
    loaded = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{SCHEMA_FILE} is not a schema")
    return loaded


def schema(event: str) -> dict[str, Any]:
    """The JSON Schema of `event`'s whole body (envelope and data)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    return {**schemas(), "$ref": f"#/$defs/{event}"}


def _object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value) if value else {}
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
