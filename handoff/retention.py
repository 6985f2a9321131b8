"""The handoff's side of retention: what must be kept, finished cases past their period, sessions.

privacy/retention.py decides the periods; these functions know the handoff's tables. Two
rules hold whatever the age of the data:

- a conversation with an **open case** (queued or assigned) or that **people own**
  (`handoff_ownership.owner = 'people'`: handed over, closed and kept with people, or
  resolved with the hand-back not yet applied) is kept whole, here and in every other store
  (`kept_conversations`);
- a finished case (`bot`, `resolved`, `closed`) whose last update is past the period, and
  whose conversation is not kept, is **anonymised** the way an erasure leaves a case
  (privacy/inventory.py, handoff/personal_data.py): it stays for the business's statistics
  (reason, channel, priority, team, status and its times), its conversation id becomes a
  keyed pseudonym of its own, and the customer's name, the profile link, what the bot
  collected, the files, the summary, the outcome and the corrections are blanked; its
  internal notes go, its audit entries keep what was done and when but lose their details,
  and the ownership record that points at it goes (no record means the bot's, as it was).
  Its last update time is kept: a run that anonymises thousands of old cases does not make
  them the newest changes every desk's live feed sends.

Every function takes a connection, so the caller chooses the transaction; changes check their
conditions again in it, and count instead of changing with `apply=False` (the dry run).
"""

from __future__ import annotations

import json
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff.case import Status
from handoff.facts import conversation_ref
from handoff.models import (
    case_events,
    cases,
    contacts,
    facts,
    login_throttle,
    nlu_candidates,
    notes,
    ownership,
    sessions,
)
from handoff.ownership_store import Owner
from handoff.personal_data import ERASED_PREFIX, erased_id, unlink_record

OPEN = (Status.QUEUED.value, Status.ASSIGNED.value)
FINISHED = (Status.BOT.value, Status.RESOLVED.value, Status.CLOSED.value)
ACTOR = "retention"  # the audit log's name for this job


def _kept() -> sa.sql.CompoundSelect:
    return sa.union(
        sa.select(cases.c.conversation_id).where(cases.c.status.in_(OPEN)),
        sa.select(ownership.c.conversation_id).where(ownership.c.owner == Owner.PEOPLE.value),
    )


def kept_conversations(connection: Connection) -> set[str]:
    """Conversations with an open case or owned by people: nothing of theirs is removed."""
    return {row[0] for row in connection.execute(_kept())}


def case_files(connection: Connection, conversation_ids: Collection[str]) -> list[str]:
    """The file lists (JSON) of these conversations' cases, to keep the files they name."""
    ids = list(conversation_ids)
    if not ids:
        return []
    query = sa.select(cases.c.media).where(cases.c.conversation_id.in_(ids))
    return [row.media or "" for row in connection.execute(query)]


def _expired(before: float) -> sa.sql.ColumnElement:
    kept = _kept().subquery()
    return sa.and_(
        cases.c.status.in_(FINISHED),
        cases.c.updated_at < before,
        ~cases.c.conversation_id.startswith(ERASED_PREFIX),  # anonymised already
        cases.c.conversation_id.not_in(sa.select(kept.c.conversation_id)),
    )


def expired_cases(connection: Connection, before: float) -> list[int]:
    """Finished cases last updated before `before`, not anonymised yet, conversation not kept."""
    query = sa.select(cases.c.id).where(_expired(before)).order_by(cases.c.id)
    return [int(row.id) for row in connection.execute(query)]


def profiles_in_use(connection: Connection, cases_before: float | None = None) -> set[int]:
    """Customer profiles (the channels' ids) that cases name, once expired ones are anonymised.

    `cases_before`: leave out the cases `expired_cases(cases_before)` lists, as if anonymised
    already (the dry run changes nothing, and must count what the real run would). The
    channels keep these profiles: on SQLite a removed profile's id can be given to the next
    new customer, whose desk view would then list another person's old cases.
    """
    query = sa.select(cases.c.profile_id).where(cases.c.profile_id.is_not(None)).distinct()
    if cases_before is not None:
        query = query.where(sa.not_(_expired(cases_before)))
    return {int(row.profile_id) for row in connection.execute(query)}


def anonymise_cases(
    connection: Connection, case_ids: Collection[int], before: float, now: float, *, apply: bool
) -> dict[str, int]:
    """Anonymises (or counts) these cases, their notes, audit details and ownership records.

    Only those still expired (checked again here: a case reopened since the plan stays as it
    is). Each anonymised case gets one audit entry, `anonymised` by `retention` at `now`.
    Returns how many cases were anonymised, notes removed, audit entries emptied of their
    details and ownership records removed.
    """
    counts = {"cases_anonymised": 0, "notes": 0, "case_events_blanked": 0, "ownership_records": 0}
    ids = list(case_ids)
    if not ids:
        return counts
    rows = connection.execute(
        sa.select(cases.c.id, cases.c.conversation_id).where(cases.c.id.in_(ids), _expired(before))
    ).all()
    still = [int(row.id) for row in rows]
    if not still:
        return counts
    counts["notes"] = _remove(connection, notes, notes.c.case_id.in_(still), apply=apply)
    counts["ownership_records"] = _remove(
        connection, ownership, ownership.c.case_id.in_(still), apply=apply
    )
    detailed = sa.and_(case_events.c.case_id.in_(still), case_events.c.detail != "{}")
    if not apply:
        count = sa.select(sa.func.count()).select_from(case_events).where(detailed)
        counts["case_events_blanked"] = int(connection.execute(count).scalar() or 0)
        counts["cases_anonymised"] = len(still)
        return counts
    counts["case_events_blanked"] = int(
        connection.execute(case_events.update().where(detailed).values(detail="{}")).rowcount or 0
    )
    for row in rows:
        connection.execute(
            cases.update()
            .where(cases.c.id == row.id)
            .values(
                conversation_id=erased_id(int(row.id), row.conversation_id),
                profile_id=None,
                customer_name=None,
                collected="{}",
                media="[]",
                summary="",
                outcome=None,
                corrections="{}",
            )
        )
        connection.execute(
            case_events.insert().values(
                case_id=row.id, at=now, actor=ACTOR, action="anonymised", detail=json.dumps({})
            )
        )
    counts["cases_anonymised"] = len(rows)
    return counts


def unlink_reports_record(
    connection: Connection, conversation_ids: Collection[str], *, apply: bool
) -> dict[str, int]:
    """Conversations gone by retention stay counted in the reports, unlinked from anyone.

    Their facts and contacts (handoff/facts.py) get a random token instead of the keyed
    pseudonym, and their training candidates (the customer's words) go, as an erasure does
    (handoff/personal_data.py `unlink_record`).
    """
    counts = {"facts": 0, "contacts": 0, "nlu_candidates": 0}
    for conversation_id in conversation_ids:
        if apply:
            changed = unlink_record(connection, conversation_id)
        else:
            ref = conversation_ref(conversation_id)
            found = [
                int(
                    connection.execute(
                        sa.select(sa.func.count()).where(table.c.conversation_ref == ref)
                    ).scalar_one()
                )
                for table in (facts, contacts, nlu_candidates)
            ]
            changed = (found[0], found[1], found[2])
        counts["facts"] += changed[0]
        counts["contacts"] += changed[1]
        counts["nlu_candidates"] += changed[2]
    return counts


def forget_sessions(connection: Connection, before: float, now: float, *, apply: bool) -> int:
    """Removes (or counts) desk sessions started before `before` that have ended by `now`."""
    condition = sa.and_(sessions.c.created_at < before, sessions.c.expires_at < now)
    return _remove(connection, sessions, condition, apply=apply)


def forget_login_attempts(connection: Connection, before: float, now: float, *, apply: bool) -> int:
    """Removes (or counts) wrong-password counters untouched since `before`, none still braking."""
    condition = sa.and_(
        login_throttle.c.updated_at < before, login_throttle.c.next_allowed_at <= now
    )
    return _remove(connection, login_throttle, condition, apply=apply)


def _remove(
    connection: Connection, table: sa.Table, condition: sa.sql.ColumnElement, *, apply: bool
) -> int:
    if apply:
        return int(connection.execute(table.delete().where(condition)).rowcount or 0)
    count = sa.select(sa.func.count()).select_from(table).where(condition)
    return int(connection.execute(count).scalar() or 0)
