"""`hilo export`: conversations (messages), cases and CSAT answers as JSON lines.

For a data warehouse: one JSON object per line, each with a `type`:

- `message`: every message either way received or sent since the date (`direction` in or
  out, `from` customer, bot, agent or system, its kind, text and delivery status);
- `case`: every case changed since the date, as the desk has it now (erased cases appear
  anonymised, as the privacy erasure leaves them);
- `csat`: every satisfaction answer given since the date.

Times are ISO 8601 UTC. Read in id order in chunks, so an export of millions of messages
runs in constant memory; it is a read of the databases, so it may run while Hilo works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.storage import inbound, outbound
from crm.events import iso
from handoff.database import reader
from handoff.models import cases

CHUNK = 1000
SENDERS = {"bot": "bot", "agent": "agent", "handoff": "system", "system": "system"}


def parse_since(text: str) -> float:
    """An ISO date or time ("2026-12-01", "2026-12-01T08:00:00-06:00") as Unix seconds.

    A date or time without a zone is UTC.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date (e.g. 2026-12-01)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def records(handoff: Engine, channels: Engine | None, since: float) -> Iterator[dict[str, Any]]:
    """Every record to export: messages, then cases, then CSAT answers."""
    if channels is not None:
        yield from _messages(channels, since)
    yield from _cases(handoff, since)
    yield from _csat(handoff, since)


def write_jsonl(
    handoff: Engine, channels: Engine | None, since: float, out: IO[str]
) -> dict[str, int]:
    """Writes the export to `out`; returns how many records of each type."""
    counts = {"message": 0, "case": 0, "csat": 0}
    for record in records(handoff, channels, since):
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str))
        out.write("\n")
        counts[record["type"]] += 1
    return counts


def _pages(engine: Engine, query: sa.sql.Select, id_column: Any) -> Iterator[Any]:
    """The rows of `query`, read CHUNK at a time in `id_column` order (keyset paging)."""
    last = 0
    while True:
        with reader(engine).connect() as connection:
            rows = connection.execute(
                query.where(id_column > last).order_by(id_column).limit(CHUNK)
            ).all()
        yield from rows
        if len(rows) < CHUNK:
            return
        last = int(rows[-1].id)


def _messages(channels: Engine, since: float) -> Iterator[dict[str, Any]]:
    received = sa.select(inbound).where(inbound.c.received_at >= since)
    for row in _pages(channels, received, inbound.c.id):
        body = _object(row.body)
        yield {
            "type": "message",
            "id": f"in:{int(row.id)}",
            "direction": "in",
            "from": "customer",
            "conversation_id": row.conversation_id,
            "channel": row.channel,
            "at": iso(float(row.sent_at)),
            "received_at": iso(float(row.received_at)),
            "kind": body.get("kind"),
            "text": body.get("text") or "",
            "files": len(body.get("media") or ()),
            "status": row.status,
        }
    sent = sa.select(outbound).where(outbound.c.created_at >= since)
    for row in _pages(channels, sent, outbound.c.id):
        body = _object(row.body)
        yield {
            "type": "message",
            "id": f"out:{int(row.id)}",
            "direction": "out",
            "from": SENDERS.get(row.source, "system"),
            "conversation_id": row.conversation_id,
            "channel": row.channel,
            "at": iso(float(row.created_at)),
            "kind": row.kind,
            "text": body.get("text") or "",
            "status": row.status,
            "error_code": row.error_code,
        }


def _cases(handoff: Engine, since: float) -> Iterator[dict[str, Any]]:
    changed = sa.select(cases).where(cases.c.updated_at >= since)
    for row in _pages(handoff, changed, cases.c.id):
        yield {
            "type": "case",
            "id": int(row.id),
            "conversation_id": row.conversation_id,
            "channel": row.channel,
            "profile_id": row.profile_id,
            "status": row.status,
            "reason": row.reason,
            "priority": row.priority,
            "language": row.language,
            "team": row.team,
            "assignee_id": row.assignee_id,
            "created_at": iso(row.created_at),
            "assigned_at": iso(row.assigned_at),
            "first_reply_at": iso(row.first_reply_at),
            "resolved_at": iso(row.resolved_at),
            "sla_due_at": iso(row.sla_due_at),
            "updated_at": iso(row.updated_at),
            "collected": _object(row.collected),
            "summary": row.summary or "",
            "outcome": row.outcome,
            "csat_score": row.csat_score,
        }


def _csat(handoff: Engine, since: float) -> Iterator[dict[str, Any]]:
    answered = sa.select(
        cases.c.id,
        cases.c.conversation_id,
        cases.c.channel,
        cases.c.csat_score,
        cases.c.csat_comment,
        cases.c.csat_at,
    ).where(cases.c.csat_at >= since, cases.c.csat_score.is_not(None))
    for row in _pages(handoff, answered, cases.c.id):
        yield {
            "type": "csat",
            "case_id": int(row.id),
            "conversation_id": row.conversation_id,
            "channel": row.channel,
            "score": int(row.csat_score),
            "comment": row.csat_comment,
            "answered_at": iso(row.csat_at),
        }


def _object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
