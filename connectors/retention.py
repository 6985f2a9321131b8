"""The channels' side of retention: which conversations went quiet, and forgetting them whole.

privacy/retention.py decides the period and which conversations must be kept whatever their
age (people own them, or a case is open); these functions know the channels' tables. A
conversation's **last contact** is the latest of its customer's messages (received), the
messages sent to it (last status change) and its channel record (the customer's last
message, else when it was first seen). Nothing here cuts a conversation mid-way: a
conversation goes with all its rows, inbox, sent messages and channel record, and never
while a message of it is pending or in a turn.

Every function takes a connection, so the caller chooses the transaction: the removal
checks again, in its own transaction, that each conversation is still quiet (a customer who
wrote since the plan keeps everything), and removes or only counts with the same conditions
(`apply=False`: the dry run, which changes nothing).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.inbox import PENDING, PROCESSING
from connectors.media_store import names_in
from connectors.storage import conversations, inbound, outbound, profiles


def _contacts() -> sa.sql.Subquery:
    """(conversation_id, at) for every record of a conversation, in one column."""
    return sa.union_all(
        sa.select(inbound.c.conversation_id, inbound.c.received_at.label("at")),
        sa.select(outbound.c.conversation_id, outbound.c.updated_at.label("at")),
        sa.select(
            conversations.c.conversation_id,
            sa.func.coalesce(conversations.c.last_inbound_at, conversations.c.first_seen_at).label(
                "at"
            ),
        ),
    ).subquery("contacts")


def quiet_conversations(connection: Connection, before: float) -> set[str]:
    """Conversations whose last contact is before `before` (Unix seconds)."""
    contacts = _contacts()
    query = (
        sa.select(contacts.c.conversation_id)
        .group_by(contacts.c.conversation_id)
        .having(sa.func.max(contacts.c.at) < before)
    )
    return {row.conversation_id for row in connection.execute(query)}


def active_among(
    connection: Connection, conversation_ids: Collection[str], since: float
) -> set[str]:
    """Of these conversations, those with a contact at or after `since`, or a message unfinished.

    An unfinished message (pending, or in a turn) keeps its conversation whatever its age: a
    turn interrupted long ago is still owed an answer.
    """
    ids = list(conversation_ids)
    if not ids:
        return set()
    queries = [
        sa.select(inbound.c.conversation_id).where(
            inbound.c.conversation_id.in_(ids),
            sa.or_(
                inbound.c.received_at >= since,
                inbound.c.status.in_((PENDING, PROCESSING)),
            ),
        ),
        sa.select(outbound.c.conversation_id).where(
            outbound.c.conversation_id.in_(ids), outbound.c.updated_at >= since
        ),
        sa.select(conversations.c.conversation_id).where(
            conversations.c.conversation_id.in_(ids),
            sa.func.coalesce(conversations.c.last_inbound_at, conversations.c.first_seen_at)
            >= since,
        ),
    ]
    return {row[0] for query in queries for row in connection.execute(query)}


def profiles_of(connection: Connection, conversation_ids: Collection[str]) -> dict[int, set[str]]:
    """The profiles of these conversations, each with every conversation it has (any channel)."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    wanted = sa.select(conversations.c.profile_id).where(conversations.c.conversation_id.in_(ids))
    rows = connection.execute(
        sa.select(conversations.c.profile_id, conversations.c.conversation_id).where(
            conversations.c.profile_id.in_(wanted.scalar_subquery())
        )
    )
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(int(row.profile_id), set()).add(row.conversation_id)
    return found


def forget_conversations(
    connection: Connection, conversation_ids: Collection[str], since: float, *, apply: bool
) -> dict[str, int]:
    """Removes (or with `apply=False` counts) these conversations' rows, if still quiet.

    Quiet means no contact at or after `since` and nothing unfinished, checked again here so
    that a conversation that came back to life since the caller's plan keeps every row.
    Profiles are not touched (`forget_profiles`, once their conversations are gone).
    Returns how many rows of each kind: inbound_messages, outbound_messages, conversations.
    """
    ids = sorted(set(conversation_ids) - active_among(connection, conversation_ids, since))
    counts = {"inbound_messages": 0, "outbound_messages": 0, "conversations": 0}
    if not ids:
        return counts
    for kind, table in (
        ("inbound_messages", inbound),
        ("outbound_messages", outbound),
        ("conversations", conversations),
    ):
        counts[kind] = _remove(connection, table, table.c.conversation_id.in_(ids), apply=apply)
    return counts


def forget_profiles(connection: Connection, profile_ids: Iterable[int], *, apply: bool) -> int:
    """Removes (or counts) these customer profiles, each only if no conversation is left on it.

    With `apply=False` nothing was removed before, so the caller passes only the profiles all
    of whose conversations the run removes (see `profiles_of`); the count is then the same.
    """
    ids = sorted(set(profile_ids))
    if not ids:
        return 0
    condition = profiles.c.id.in_(ids)
    if apply:
        in_use = sa.select(conversations.c.profile_id).where(conversations.c.profile_id.in_(ids))
        condition = sa.and_(condition, profiles.c.id.not_in(in_use.scalar_subquery()))
    return _remove(connection, profiles, condition, apply=apply)


def media_names(connection: Connection, conversation_ids: Collection[str]) -> set[str]:
    """Names of stored media files that these conversations' messages refer to."""
    ids = list(conversation_ids)
    if not ids:
        return set()
    found: set[str] = set()
    for table in (inbound, outbound):
        query = sa.select(table.c.body).where(table.c.conversation_id.in_(ids))
        for (body,) in connection.execute(query):
            found |= names_in(body or "")
    return found


def _remove(
    connection: Connection, table: sa.Table, condition: sa.sql.ColumnElement, *, apply: bool
) -> int:
    if apply:
        return int(connection.execute(table.delete().where(condition)).rowcount or 0)
    return int(
        connection.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar()
        or 0
    )
