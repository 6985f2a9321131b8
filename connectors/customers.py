"""Who is on the other end: conversations, their messaging windows, and customer profiles.

Every conversation (one channel identity: "whatsapp:+52155…", "telegram:1111") belongs to one
customer profile. Profiles are linked by phone number: the same phone on WhatsApp (Cloud API
or Twilio), SMS or a contact shared on Telegram is the same person, so the desk shows one
customer with all their channels.

The conversation row also keeps the time of the customer's last message (the messaging
window, see `connectors/windows.py`) and the buttons last offered, so a channel without
native buttons can map a reply such as "2" back to the button's payload.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from connectors.messages import Button, InboundMessage
from connectors.storage import Database, as_database, conversations, profiles


@dataclass(frozen=True)
class Identity:
    """One channel identity of a customer."""

    channel: str
    conversation_id: str
    display_name: str | None
    last_inbound_at: float | None


@dataclass(frozen=True)
class Profile:
    """A customer across channels."""

    id: int
    phone: str | None
    display_name: str | None
    identities: tuple[Identity, ...]


class Customers:
    """Conversations and profiles in the channels database."""

    def __init__(self, database: Database | Engine) -> None:
        """Uses the channels database (tables created by `connectors.storage.make_engine`)."""
        self.database = as_database(database)
        self.engine = self.database.engine

    def record_inbound(self, message: InboundMessage) -> int:
        """Notes a customer message: window, name, phone; returns the profile id.

        Retries once on a unique-key race (two first messages of one customer at once).
        """
        for attempt in range(2):
            try:
                return self.database.write(lambda connection: self._record(connection, message))
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _record(self, connection: Connection, message: InboundMessage) -> int:
        row = connection.execute(
            sa.select(conversations).where(
                conversations.c.conversation_id == message.conversation_id
            )
        ).first()
        if row is None:
            profile_id = self._profile_for(connection, message.phone, message.display_name)
            connection.execute(
                conversations.insert().values(
                    conversation_id=message.conversation_id,
                    channel=message.channel,
                    profile_id=profile_id,
                    display_name=message.display_name,
                    phone=message.phone,
                    first_seen_at=time.time(),
                    last_inbound_at=message.sent_at,
                )
            )
            return profile_id
        profile_id = int(row.profile_id)
        values: dict[str, object] = {
            "last_inbound_at": max(row.last_inbound_at or 0.0, message.sent_at)
        }
        if message.display_name:
            values["display_name"] = message.display_name
        if message.phone and message.phone != row.phone:
            # A phone learned later (a contact shared on Telegram): join that person's profile.
            values["phone"] = message.phone
            profile_id = self._profile_for(connection, message.phone, message.display_name)
            values["profile_id"] = profile_id
        connection.execute(
            conversations.update()
            .where(conversations.c.conversation_id == message.conversation_id)
            .values(**values)
        )
        if profile_id != int(row.profile_id):
            # The profile it leaves is nobody's now: nothing could find it again (it has no
            # conversation), so it would only keep a name forever (docs/privacy.md).
            self._drop_if_unused(connection, int(row.profile_id))
        return profile_id

    @staticmethod
    def _drop_if_unused(connection: Connection, profile_id: int) -> None:
        used = connection.execute(
            sa.select(conversations.c.conversation_id)
            .where(conversations.c.profile_id == profile_id)
            .limit(1)
        ).first()
        if used is None:
            connection.execute(profiles.delete().where(profiles.c.id == profile_id))

    @staticmethod
    def _profile_for(connection: Connection, phone: str | None, name: str | None) -> int:
        """The profile with this phone, or a new one."""
        if phone:
            found = connection.execute(
                sa.select(profiles.c.id).where(profiles.c.phone == phone)
            ).scalar()
            if found is not None:
                return int(found)
        return int(
            connection.execute(
                profiles.insert().values(phone=phone, display_name=name, created_at=time.time())
            ).inserted_primary_key[0]
        )

    def last_inbound_at(self, conversation_id: str) -> float | None:
        """When the customer last wrote in this conversation (None: never)."""
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(conversations.c.last_inbound_at).where(
                    conversations.c.conversation_id == conversation_id
                )
            ).scalar()
        return float(value) if value is not None else None

    def offer_buttons(
        self, conversation_id: str, buttons: tuple[Button, ...], *, numbered: bool
    ) -> None:
        """Remembers the buttons just offered (none: the last message had none).

        `numbered`: they were shown as a numbered list, so a reply "2" means the second.
        """
        encoded = json.dumps(
            {"numbered": numbered, "buttons": [[b.title, b.payload] for b in buttons]},
            ensure_ascii=False,
        )
        statement = (
            conversations.update()
            .where(conversations.c.conversation_id == conversation_id)
            .values(offered_buttons=encoded)
        )
        self.database.write(lambda connection: connection.execute(statement))

    def offered_buttons(self, conversation_id: str) -> tuple[tuple[Button, ...], bool]:
        """The buttons last offered in this conversation, and whether they were numbered."""
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(conversations.c.offered_buttons).where(
                    conversations.c.conversation_id == conversation_id
                )
            ).scalar()
        offered = json.loads(value or '{"numbered": false, "buttons": []}')
        buttons = tuple(Button(title, payload) for title, payload in offered["buttons"])
        return buttons, bool(offered["numbered"])

    def profile(self, conversation_id: str) -> Profile | None:
        """The customer behind a conversation, with every channel identity they use."""
        with self.engine.connect() as connection:
            profile_id = connection.execute(
                sa.select(conversations.c.profile_id).where(
                    conversations.c.conversation_id == conversation_id
                )
            ).scalar()
            if profile_id is None:
                return None
            person = connection.execute(
                sa.select(profiles).where(profiles.c.id == profile_id)
            ).one()
            rows = connection.execute(
                sa.select(conversations)
                .where(conversations.c.profile_id == profile_id)
                .order_by(conversations.c.first_seen_at)
            ).all()
        return Profile(
            id=int(person.id),
            phone=person.phone,
            display_name=person.display_name,
            identities=tuple(
                Identity(r.channel, r.conversation_id, r.display_name, r.last_inbound_at)
                for r in rows
            ),
        )
