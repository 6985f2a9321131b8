"""What the channels hold about a person: found, handed over and erased here (docs/privacy.md).

The channels own four tables (connectors/storage.py) and this is the one place that finds a
person in them, reads everything about them for an access request, and erases them:

- `linked`: the conversations of a person, from a phone or a conversation id, through the
  customer profiles that link channels by phone (connectors/customers.py): the same phone on
  WhatsApp, Twilio and a contact shared on Telegram is one person, and every conversation of
  their profile is theirs. A conversation id that ends in the phone (":+52155…", the way
  WhatsApp and Twilio name conversations) is theirs too, even when the profile is gone;
- `messages`, `profiles`: both directions of every message, and who the profile says they
  are, as plain JSON-ready dicts (privacy/export.py writes them out);
- `media_names`: the stored files those messages refer to (photos the customer sent, the
  bot's invoices), so the media store can hand them over or delete them;
- `erase`: deletes the messages, the conversations and the profiles left without one. A
  customer who writes again afterwards gets a new profile, like a first-time customer.

Callers give the engine (`connectors.storage.make_engine`, or any engine on that schema);
each function is one transaction. Nothing here logs a phone, a name or a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.media_store import FILES_PATH, NAME
from connectors.storage import conversations, inbound, outbound, profiles

# How many rounds of "profile → conversations → phones → profiles" `linked` follows: each
# round can only add what the previous one found, and two are enough for any profile layout.
_ROUNDS = 4
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Linked:
    """A person in the channels: their conversations, profiles and phones as stored."""

    conversation_ids: tuple[str, ...] = ()
    profile_ids: tuple[int, ...] = ()
    phones: tuple[str, ...] = ()


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values), key=str)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _ends_with_phone(column: sa.Column, phones: Iterable[str]) -> sa.ColumnElement[bool]:
    """Conversation ids that end in ":<phone>" (phones are "+" and digits: nothing to escape)."""
    clean = [phone for phone in phones if phone and set(phone) <= set("+0123456789")]
    if not clean:
        return sa.false()
    return sa.or_(*(column.like(f"%:{phone}") for phone in clean))


def linked(
    engine: Engine, *, phones: Iterable[str] = (), conversation_ids: Iterable[str] = ()
) -> Linked:
    """Every conversation, profile and phone linked to these phones or conversations.

    Args:
        engine: The channels database.
        phones: Phone numbers spelled as channels store them ("+5215512345678"); give every
            spelling of a number (privacy/subject.py does), since profiles match exactly.
        conversation_ids: Channel identities ("telegram:1111", "twilio:whatsapp:+52…").
    """
    phones_found = {phone for phone in phones if phone}
    conversations_found = {cid for cid in conversation_ids if cid}
    profiles_found: set[int] = set()
    with engine.connect() as connection:
        for _ in range(_ROUNDS):
            before = (len(phones_found), len(conversations_found), len(profiles_found))
            rows = _conversation_rows(connection, phones_found, conversations_found)
            profiles_found.update(int(row.profile_id) for row in rows)
            conversations_found.update(row.conversation_id for row in rows)
            phones_found.update(row.phone for row in rows if row.phone)
            if phones_found:
                for chunk in _chunks(phones_found):
                    profiles_found.update(
                        int(value)
                        for value in connection.execute(
                            sa.select(profiles.c.id).where(profiles.c.phone.in_(chunk))
                        ).scalars()
                    )
            for chunk in _chunks(profiles_found):
                for row in connection.execute(
                    sa.select(profiles.c.phone).where(profiles.c.id.in_(chunk))
                ):
                    if row.phone:
                        phones_found.add(row.phone)
                for row in connection.execute(
                    sa.select(conversations.c.conversation_id, conversations.c.phone).where(
                        conversations.c.profile_id.in_(chunk)
                    )
                ):
                    conversations_found.add(row.conversation_id)
                    if row.phone:
                        phones_found.add(row.phone)
            if (len(phones_found), len(conversations_found), len(profiles_found)) == before:
                break
        # Messages of a conversation whose row is gone (a partial erasure, retention).
        orphans = connection.execute(
            sa.select(inbound.c.conversation_id)
            .where(_ends_with_phone(inbound.c.conversation_id, phones_found))
            .union(
                sa.select(outbound.c.conversation_id).where(
                    _ends_with_phone(outbound.c.conversation_id, phones_found)
                )
            )
        ).scalars()
        conversations_found.update(orphans)
    return Linked(
        conversation_ids=tuple(sorted(conversations_found)),
        profile_ids=tuple(sorted(profiles_found)),
        phones=tuple(sorted(phones_found)),
    )


def _conversation_rows(
    connection: Connection, phones: set[str], conversation_ids: set[str]
) -> list[Any]:
    conditions = [_ends_with_phone(conversations.c.conversation_id, phones)]
    for chunk in _chunks(phones):
        conditions.append(conversations.c.phone.in_(chunk))
    for chunk in _chunks(conversation_ids):
        conditions.append(conversations.c.conversation_id.in_(chunk))
    query = sa.select(
        conversations.c.conversation_id, conversations.c.profile_id, conversations.c.phone
    ).where(sa.or_(*conditions))
    return list(connection.execute(query))


def profiles_of(engine: Engine, conversation_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The profiles behind these conversations, each with its channel identities."""
    found: dict[int, dict[str, Any]] = {}
    with engine.connect() as connection:
        for chunk in _chunks(conversation_ids):
            rows = connection.execute(
                sa.select(conversations, profiles.c.phone.label("profile_phone"))
                .join(profiles, profiles.c.id == conversations.c.profile_id)
                .where(conversations.c.conversation_id.in_(chunk))
                .order_by(conversations.c.first_seen_at)
            )
            for row in rows:
                person = found.setdefault(
                    int(row.profile_id),
                    {"profile_id": int(row.profile_id), "phone": row.profile_phone, "channels": []},
                )
                person["channels"].append(
                    {
                        "channel": row.channel,
                        "conversation_id": row.conversation_id,
                        "display_name": row.display_name,
                        "phone": row.phone,
                        "first_seen_at": row.first_seen_at,
                        "last_message_at": row.last_inbound_at,
                    }
                )
        for chunk in _chunks(found):
            for row in connection.execute(sa.select(profiles).where(profiles.c.id.in_(chunk))):
                found[int(row.id)].update(
                    display_name=row.display_name, created_at=float(row.created_at)
                )
    return [found[key] for key in sorted(found)]


def messages(engine: Engine, conversation_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Every message of these conversations, both directions, oldest first.

    Customer messages: what they wrote, sent, shared (files by their stored name, locations),
    when and on which channel. Messages to them: who wrote them (the bot, an agent, the
    handoff), what they said, the files, and whether they arrived.
    """
    found: list[dict[str, Any]] = []
    with engine.connect() as connection:
        for chunk in _chunks(conversation_ids):
            for row in connection.execute(
                sa.select(inbound).where(inbound.c.conversation_id.in_(chunk))
            ):
                body = _json(row.body)
                found.append(
                    {
                        "direction": "in",
                        "channel": row.channel,
                        "conversation_id": row.conversation_id,
                        "at": float(row.sent_at),
                        "received_at": float(row.received_at),
                        "from": "customer",
                        "kind": body.get("kind"),
                        "text": body.get("text") or "",
                        "button": body.get("payload"),
                        "display_name": body.get("display_name"),
                        "phone": body.get("phone"),
                        "files": sorted(_inbound_names(body)),
                        "location": body.get("location"),
                        "edited": bool(body.get("edited")),
                    }
                )
            for row in connection.execute(
                sa.select(outbound).where(outbound.c.conversation_id.in_(chunk))
            ):
                body = _json(row.body)
                found.append(
                    {
                        "direction": "out",
                        "channel": row.channel,
                        "conversation_id": row.conversation_id,
                        "at": float(row.created_at),
                        "from": row.source,
                        "author": row.author,
                        "kind": row.kind,
                        "text": body.get("text") or "",
                        "buttons": [button.get("title") for button in body.get("buttons") or ()],
                        "files": sorted(_outbound_names(body)),
                        "status": row.status,
                    }
                )
    found.sort(key=lambda message: (message["at"], message["direction"] == "out"))
    return found


def media_names(engine: Engine, conversation_ids: Iterable[str]) -> set[str]:
    """Names of the stored files these conversations' messages refer to (both directions)."""
    names: set[str] = set()
    with engine.connect() as connection:
        for chunk in _chunks(conversation_ids):
            for body in connection.execute(
                sa.select(inbound.c.body).where(inbound.c.conversation_id.in_(chunk))
            ).scalars():
                names |= _inbound_names(_json(body))
            for body in connection.execute(
                sa.select(outbound.c.body).where(outbound.c.conversation_id.in_(chunk))
            ).scalars():
                names |= _outbound_names(_json(body))
    return names


def erase(
    engine: Engine, conversation_ids: Iterable[str], profile_ids: Iterable[int] = ()
) -> dict[str, int]:
    """Deletes these conversations' messages and rows, and the profiles left without one.

    `profile_ids` (from `linked`) are deleted too once no conversation uses them. Idempotent:
    a second call finds nothing. Returns how many rows of each table went.
    """
    counts = {"inbound": 0, "outbound": 0, "conversations": 0, "profiles": 0}
    owners = {int(profile_id) for profile_id in profile_ids}
    with engine.begin() as connection:
        for chunk in _chunks(conversation_ids):
            owners.update(
                connection.execute(
                    sa.select(conversations.c.profile_id).where(
                        conversations.c.conversation_id.in_(chunk)
                    )
                ).scalars()
            )
            for table in (inbound, outbound, conversations):
                counts[_KINDS[table.name]] += connection.execute(
                    table.delete().where(table.c.conversation_id.in_(chunk))
                ).rowcount
        for group in _chunks(owners):
            used = set(
                connection.execute(
                    sa.select(conversations.c.profile_id).where(
                        conversations.c.profile_id.in_(group)
                    )
                ).scalars()
            )
            unused = [profile_id for profile_id in group if profile_id not in used]
            if unused:
                counts["profiles"] += connection.execute(
                    profiles.delete().where(profiles.c.id.in_(unused))
                ).rowcount
    return counts


_KINDS = {
    inbound.name: "inbound",
    outbound.name: "outbound",
    conversations.name: "conversations",
}


def _json(body: str | None) -> dict[str, Any]:
    try:
        value = json.loads(body or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def stored_name(url: str | None) -> str | None:
    """The stored file a media link points at (a signed link or a desk link), if any."""
    if not url or not isinstance(url, str):
        return None
    path = url.split("?", 1)[0]
    if FILES_PATH not in path and not path.startswith("/media/"):
        return None
    name = path.rsplit("/", 1)[-1]
    return name if NAME.fullmatch(name) else None


def _inbound_names(body: dict[str, Any]) -> set[str]:
    names = set()
    for item in body.get("media") or ():
        if not isinstance(item, dict):
            continue
        name = item.get("stored_name")
        if isinstance(name, str) and NAME.fullmatch(name):
            names.add(name)
        from_url = stored_name(item.get("stored_url"))
        if from_url:
            names.add(from_url)
    return names


def _outbound_names(body: dict[str, Any]) -> set[str]:
    return {
        name
        for name in (stored_name(body.get(key)) for key in ("image_url", "document_url"))
        if name
    }
