"""Who a privacy request is about: every identity of the person in every store.

A request names the person by what they gave the business: a phone, an email or a
conversation id (`Request`). `resolve` follows the links the stores keep, until nothing new
turns up:

- a phone, in every spelling channels and orders use ("+5215512345678" from WhatsApp,
  "+525512345678" on an order), leads to the customer profile with that phone, and so to
  every conversation of that profile on any channel (the same customer on WhatsApp and on
  Telegram, linked by the phone shared there), and to conversation ids that end in it;
- a conversation id leads to its profile, and so to the others, and to the phone;
- an email leads to the orders placed with it, and so to their phone, and to cases whose
  collected data names it; a phone leads to its orders, and so to their email.

What a customer typed is not searched for links (a phone written in a message may be
anybody's): what they typed is erased with their conversations. A request can give several
phones, emails and conversations at once for a person known by more than one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actions.commerce import personal_data as commerce_data
from actions.commerce.verification import normalize_email, normalize_phone
from connectors import personal_data as channel_data
from handoff import personal_data as case_data
from hilo.pseudonyms import pseudonym
from privacy import trackers
from privacy.stores import Engines

MAX_LENGTH = 255
# A conversation id whose last part is a phone number ("whatsapp:+52155…").
_PHONE_IN_ID = re.compile(r":(\+\d{7,15})$")
_ROUNDS = 5


class BadRequest(ValueError):
    """The request names nobody (no phone, email or conversation), or names them wrongly."""


@dataclass(frozen=True)
class Request:
    """How the person asking is named: phones, emails, conversation ids (at least one)."""

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    conversations: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        conversations: Iterable[str] = (),
    ) -> Request:
        """A checked request: each value non-empty text of at most 255 characters.

        Raises:
            BadRequest: nothing given, a value that is empty or too long, a phone that is
                not a phone number, an email that is not an address.
        """
        clean: dict[str, list[str]] = {"phones": [], "emails": [], "conversations": []}
        for kind, values in (
            ("phones", phones),
            ("emails", emails),
            ("conversations", conversations),
        ):
            for value in values:
                if not isinstance(value, str) or not value.strip() or len(value) > MAX_LENGTH:
                    raise BadRequest(
                        f"each of {kind} must be a text of 1 to {MAX_LENGTH} characters"
                    )
                if "\x00" in value:
                    raise BadRequest("no NUL characters")
                clean[kind].append(value.strip())
        for phone in clean["phones"]:
            if not phone_spellings(phone):
                raise BadRequest("a phone must be a phone number (with its country code)")
        for email in clean["emails"]:
            if normalize_email(email) is None:
                raise BadRequest("an email must be an email address")
        if not any(clean.values()):
            raise BadRequest("name the person by a phone, an email or a conversation")
        return cls(
            phones=tuple(clean["phones"]),
            emails=tuple(clean["emails"]),
            conversations=tuple(clean["conversations"]),
        )

    def ref(self) -> str:
        """A keyed pseudonym of what the request named: the same person gets the same one.

        What the audit keeps instead of the phone or email (hilo/pseudonyms.py): with Hilo's
        key the business can tell whether it answered this person before, without it nobody
        can tell who they were.
        """
        names = sorted(
            [f"phone:{min(phone_spellings(p) or {p})}" for p in self.phones]
            + [f"email:{normalize_email(e)}" for e in self.emails]
            + [f"conversation:{c}" for c in self.conversations]
        )
        return pseudonym("privacy subject\0" + "\0".join(names), 32)


@dataclass(frozen=True)
class Subject:
    """The person in every store: each identity `resolve` found."""

    request: Request
    conversation_ids: tuple[str, ...] = ()
    profile_ids: tuple[int, ...] = ()
    phones: tuple[str, ...] = ()  # every spelling
    emails: tuple[str, ...] = ()
    order_numbers: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """How many identities of each kind, and on which channels (no identity itself)."""
        return {
            "conversations": len(self.conversation_ids),
            "channels": list(self.channels),
            "profiles": len(self.profile_ids),
            "orders": len(self.order_numbers),
        }


def phone_spellings(text: str) -> set[str]:
    """The ways channels and orders write this phone number ("+52155…" and "+5255…").

    Orders keep E.164 (Mexican mobiles without the old "1", actions/commerce/verification.py);
    WhatsApp and Twilio send the number with it, and channels keep it as sent. An empty set
    for text that is no phone number.
    """
    spellings: set[str] = set()
    text = text.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and 7 <= len(digits) <= 15:
        spellings.add("+" + digits)
    e164 = normalize_phone(text)
    if e164:
        spellings.add(e164)
        if e164.startswith("+52") and len(e164) == 13:
            spellings.add("+521" + e164[3:])
    return spellings


def resolve(request: Request, engines: Engines) -> Subject:
    """Every identity of the person in the stores that exist (see the module docstring)."""
    phones: set[str] = set()
    for phone in request.phones:
        phones |= phone_spellings(phone)
    emails = {email for email in (normalize_email(e) for e in request.emails) if email}
    conversations = set(request.conversations)
    profiles: set[int] = set()
    orders: set[str] = set()
    for _ in range(_ROUNDS):
        before = (len(phones), len(emails), len(conversations), len(profiles), len(orders))
        for conversation_id in list(conversations):
            embedded = _PHONE_IN_ID.search(conversation_id)
            if embedded:
                phones |= phone_spellings(embedded.group(1))
        if engines.channels is not None:
            found = channel_data.linked(
                engines.channels, phones=phones, conversation_ids=conversations
            )
            conversations.update(found.conversation_ids)
            profiles.update(found.profile_ids)
            for phone in found.phones:
                phones |= phone_spellings(phone) or {phone}
        if engines.trackers is not None:
            conversations |= trackers.sender_ids(engines.trackers, phones=phones)
        conversations |= case_data.conversations_for(engines.handoff, phones=phones, emails=emails)
        if engines.commerce is not None:
            sold = commerce_data.linked(engines.commerce, phones=phones, emails=emails)
            orders.update(sold.order_numbers)
            emails.update(sold.emails)
            for phone in sold.phones:
                phones |= phone_spellings(phone)
        if (len(phones), len(emails), len(conversations), len(profiles), len(orders)) == before:
            break
    return Subject(
        request=request,
        conversation_ids=tuple(sorted(conversations)),
        profile_ids=tuple(sorted(profiles)),
        phones=tuple(sorted(phones)),
        emails=tuple(sorted(emails)),
        order_numbers=tuple(sorted(orders)),
        channels=tuple(sorted({c.split(":", 1)[0] for c in conversations if ":" in c})),
    )
