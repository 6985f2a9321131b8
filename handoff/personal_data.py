"""What the handoff holds about a customer: found, handed over and erased here (docs/privacy.md).

A customer's cases carry what the bot collected (their name, order, address, contact), the
files they sent, the bot's summary of their words, the agent's outcome and corrections, the
agents' internal notes about them, and an audit trail whose details may quote some of it.
This module is the one place that reads all of that for an access request and erases it:

- `conversations_for`: the conversations the cases know a person by, from their phones (a
  conversation id that ends in the phone) or their emails (written in what a case collected);
- `cases_of`, `media_urls`: every case of these conversations as JSON-ready dicts, and the
  files the cases list;
- `erase`: the cases stay, for the business's statistics (reason, channel, priority, team,
  status and every time), with nothing left that says who the customer was: their name,
  collected data, files, summary, outcome and corrections are blanked, the profile link is
  cut, and the conversation id becomes an irreversible keyed pseudonym (hilo/pseudonyms.py),
  one per case, so no two erased cases can be linked to each other either. Internal notes
  are deleted, the audit entries keep what was done and when but lose their details, and
  the ownership record is deleted: the conversation is the bot's again, and a customer who
  writes afterwards starts fresh. A case still waiting for or with an agent is closed (an
  `erased` entry in its audit log says so): nobody must answer a customer who is not there.

Agents' accounts are staff data, not the customer's; they are not touched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.case import Status, transition
from handoff.database import reader
from handoff.models import agents, case_events, cases, notes, ownership
from hilo.pseudonyms import pseudonym

ERASED_PREFIX = "erased:"
ERASED_ACTOR = "privacy"
_CHUNK = 500


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values), key=str)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def erased_id(case_id: int, conversation_id: str) -> str:
    """What an erased case is known by instead of its conversation: a keyed pseudonym.

    Bound to the case as well, so two erased cases of one customer cannot be linked, and the
    unique index on unfinished cases (one per conversation) never sees two of them.
    """
    return ERASED_PREFIX + pseudonym(f"erased case\0{case_id}\0{conversation_id}", 32)


def conversations_for(
    engine: Engine, *, phones: Iterable[str] = (), emails: Iterable[str] = ()
) -> set[str]:
    """Conversations of cases that name these phones (in the id) or emails (in the data)."""
    conditions = [
        cases.c.conversation_id.like(f"%:{phone}")
        for phone in phones
        if phone and set(phone) <= set("+0123456789")
    ]
    # A whole JSON string value ("ana@example.com" in quotes), never a part of another
    # address: "ana@example.com" must not find juana@example.com's cases.
    conditions += [
        cases.c.collected.ilike(f'%"{_escape_like(email)}"%', escape="\\")
        for email in emails
        if email and '"' not in email
    ]
    if not conditions:
        return set()
    query = sa.select(cases.c.conversation_id).where(
        sa.or_(*conditions), ~cases.c.conversation_id.startswith(ERASED_PREFIX)
    )
    with reader(engine).connect() as connection:
        return set(connection.execute(query).scalars())


def cases_of(
    engine: Engine, conversation_ids: Iterable[str], *, internal_notes: bool = False
) -> list[dict[str, Any]]:
    """Every case of these conversations, oldest first, as the desk showed it.

    `internal_notes`: include the notes agents wrote to each other about the customer
    (off by default: they are the business's working notes, not addressed to the customer;
    whether to hand them over is the business's call, see docs/privacy.md).
    """
    found: list[dict[str, Any]] = []
    with reader(engine).connect() as connection:
        for chunk in _chunks(conversation_ids):
            rows = connection.execute(
                sa.select(cases).where(cases.c.conversation_id.in_(chunk)).order_by(cases.c.id)
            )
            for row in rows:
                found.append(
                    {
                        "case": int(row.id),
                        "conversation_id": row.conversation_id,
                        "channel": row.channel,
                        "status": row.status,
                        "reason": row.reason,
                        "language": row.language,
                        "customer_name": row.customer_name,
                        "opened_at": row.created_at,
                        "first_reply_at": row.first_reply_at,
                        "resolved_at": row.resolved_at,
                        "collected": _json(row.collected, {}),
                        "files": _json(row.media, []),
                        "summary": row.summary or "",
                        "outcome": row.outcome,
                        "corrections": _json(row.corrections, {}),
                    }
                )
        if internal_notes:
            for case in found:
                case["internal_notes"] = [
                    {"at": row.at, "agent": row.display_name, "text": row.text}
                    for row in connection.execute(
                        sa.select(notes.c.at, notes.c.text, agents.c.display_name)
                        .join(agents, agents.c.id == notes.c.agent_id)
                        .where(notes.c.case_id == case["case"])
                        .order_by(notes.c.id)
                    )
                ]
    found.sort(key=lambda case: (case["opened_at"], case["case"]))
    return found


def media_urls(engine: Engine, conversation_ids: Iterable[str]) -> list[str]:
    """The links of the files these conversations' cases list (customers' photos, receipts)."""
    urls: list[str] = []
    with reader(engine).connect() as connection:
        for chunk in _chunks(conversation_ids):
            for media in connection.execute(
                sa.select(cases.c.media).where(cases.c.conversation_id.in_(chunk))
            ).scalars():
                for item in _json(media, []):
                    if isinstance(item, dict) and isinstance(item.get("url"), str):
                        urls.append(item["url"])
    return urls


def erase(
    engine: Engine, conversation_ids: Iterable[str], *, now: float | None = None
) -> dict[str, int]:
    """Erases the customer from these conversations' cases (see the module docstring).

    One transaction; idempotent (an erased case is no longer found by its conversation).
    Returns how many cases, notes, audit entries and ownership records were touched.
    """
    now = time.time() if now is None else now
    counts = {"cases": 0, "notes": 0, "case_events": 0, "ownership": 0}
    with engine.begin() as connection:
        for chunk in _chunks(conversation_ids):
            counts["ownership"] += connection.execute(
                ownership.delete().where(ownership.c.conversation_id.in_(chunk))
            ).rowcount
            rows = connection.execute(
                sa.select(cases.c.id, cases.c.conversation_id, cases.c.status)
                .where(cases.c.conversation_id.in_(chunk))
                .order_by(cases.c.id)
            ).all()
            ids = [int(row.id) for row in rows]
            if not ids:
                continue
            counts["notes"] += connection.execute(
                notes.delete().where(notes.c.case_id.in_(ids))
            ).rowcount
            counts["case_events"] += connection.execute(
                case_events.update()
                .where(case_events.c.case_id.in_(ids), case_events.c.detail != "{}")
                .values(detail="{}")
            ).rowcount
            for row in rows:
                current = Status(row.status)
                wanted = Status.CLOSED if current.open else current
                values: dict[str, Any] = {
                    "conversation_id": erased_id(int(row.id), row.conversation_id),
                    "profile_id": None,
                    "customer_name": None,
                    "collected": "{}",
                    "media": "[]",
                    "summary": "",
                    "outcome": None,
                    "corrections": "{}",
                    "updated_at": now,
                }
                detail: dict[str, Any] = {}
                if wanted is not current:
                    transition(int(row.id), current, wanted)
                    values.update(
                        status=wanted.value, resolved_at=sa.func.coalesce(cases.c.resolved_at, now)
                    )
                    detail = {"from": current.value, "to": wanted.value}
                connection.execute(cases.update().where(cases.c.id == row.id).values(**values))
                connection.execute(
                    case_events.insert().values(
                        case_id=row.id,
                        at=now,
                        actor=ERASED_ACTOR,
                        action="erased",
                        detail=json.dumps(detail),
                    )
                )
            counts["cases"] += len(rows)
    return counts


def _json(text: str | None, default: Any) -> Any:
    try:
        value = json.loads(text) if text else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default
