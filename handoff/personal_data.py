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

The CRM feed's deliveries (crm/outbox.py, in this database) carry copies of the same data:
an erasure blanks those that name the person's conversations, cases or profiles, and one not
sent yet is never sent (state `erased`).

The reports' record (handoff/facts.py) keeps no text and names conversations by a keyed
pseudonym; an erasure replaces that pseudonym with a random token, so the person's messages
and contacts are still counted but can no longer be linked to them.

Agents' accounts are staff data, not the customer's; they are not touched.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from handoff.case import Status, transition
from handoff.database import reader
from handoff.facts import conversation_ref
from handoff.models import (
    agents,
    case_events,
    cases,
    contacts,
    facts,
    nlu_candidates,
    notes,
    ownership,
    webhook_conversations,
    webhook_deliveries,
)
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
                        "csat": {"score": row.csat_score, "comment": row.csat_comment},
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


def unlink_record(connection: Connection, conversation_id: str) -> tuple[int, int, int]:
    """The reports' record of a conversation stays counted, no longer linked to the person.

    Facts and contacts name a conversation by a keyed pseudonym, which the key recomputes
    from the phone; after an erasure they carry a random token instead, one per
    conversation (its contacts still follow each other), that nothing can recompute. The
    designer's training candidates hold the person's words: they are deleted. Returns how
    many facts, contacts and candidates.
    """
    ref = conversation_ref(conversation_id)
    deleted = connection.execute(
        nlu_candidates.delete().where(nlu_candidates.c.conversation_ref == ref)
    ).rowcount
    token = secrets.token_hex(16)
    changed = [
        connection.execute(
            table.update().where(table.c.conversation_ref == ref).values(conversation_ref=token)
        ).rowcount
        for table in (facts, contacts)
    ]
    return changed[0], changed[1], deleted


def erase(
    engine: Engine, conversation_ids: Iterable[str], *, now: float | None = None
) -> dict[str, int]:
    """Erases the customer from these conversations' cases (see the module docstring).

    One transaction; idempotent (an erased case is no longer found by its conversation).
    Returns how many cases, notes, audit entries and ownership records were touched.
    """
    now = time.time() if now is None else now
    counts = {
        "cases": 0,
        "notes": 0,
        "case_events": 0,
        "ownership": 0,
        "webhook_deliveries": 0,
        "webhook_conversations": 0,
        "facts": 0,
        "contacts": 0,
        "nlu_candidates": 0,
    }
    with engine.begin() as connection:
        for chunk in _chunks(conversation_ids):
            for conversation_id in chunk:
                unlinked = unlink_record(connection, conversation_id)
                counts["facts"] += unlinked[0]
                counts["contacts"] += unlinked[1]
                counts["nlu_candidates"] += unlinked[2]
            counts["ownership"] += connection.execute(
                ownership.delete().where(ownership.c.conversation_id.in_(chunk))
            ).rowcount
            webhooks = _erase_webhooks(connection, chunk)
            counts["webhook_deliveries"] += webhooks[0]
            counts["webhook_conversations"] += webhooks[1]
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
                    "csat_comment": None,
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


def _erase_webhooks(connection: Connection, chunk: list[str]) -> tuple[int, int]:
    """The CRM feed's copies of these conversations' data (crm/outbox.py), blanked.

    Deliveries that name the conversations, their cases or their profiles keep their id,
    event, state and times (so `hilo webhooks status` still counts them, and the feed,
    which finds its rows by key, never makes them again); the body and the links go. One
    not delivered yet becomes `erased` and is never sent. The conversations the feed
    follows for summaries are deleted. Returns (deliveries blanked, conversations deleted).
    """
    profile_ids = {
        int(value)
        for value in connection.execute(
            sa.select(webhook_conversations.c.profile_id).where(
                webhook_conversations.c.conversation_id.in_(chunk),
                webhook_conversations.c.profile_id.is_not(None),
            )
        ).scalars()
    }
    case_ids = sa.select(cases.c.id).where(cases.c.conversation_id.in_(chunk))
    whose = [
        webhook_deliveries.c.conversation_id.in_(chunk),
        webhook_deliveries.c.case_id.in_(case_ids),
    ]
    if profile_ids:
        whose.append(webhook_deliveries.c.profile_id.in_(sorted(profile_ids)))
    blanked = connection.execute(
        webhook_deliveries.update()
        .where(sa.or_(*whose), webhook_deliveries.c.payload != "{}")
        .values(
            payload="{}",
            conversation_id=None,
            profile_id=None,
            lease_owner=None,
            leased_until=None,
            state=sa.case((webhook_deliveries.c.state == "delivered", "delivered"), else_="erased"),
        )
    ).rowcount
    followed = connection.execute(
        webhook_conversations.delete().where(webhook_conversations.c.conversation_id.in_(chunk))
    ).rowcount
    return int(blanked), int(followed)


def _json(text: str | None, default: Any) -> Any:
    try:
        value = json.loads(text) if text else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default
