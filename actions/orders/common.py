"""What every order action shares: the store, who the customer is, and how to say dates.

The store is opened once per action-server process, from `DATABASE_URL` (default: the
SQLite file under var/, see actions/commerce/database.py). Conversation state lives in the
tracker's slots only; nothing here caches anything about a conversation.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker

from actions.commerce.backend import CommerceBackend, OrderView
from actions.commerce.database import make_engine
from actions.commerce.locale import MONTHS, WEEKDAYS, money
from actions.commerce.sql import SqlCommerceBackend
from actions.commerce.verification import HasContact, normalize_email, normalize_phone
from actions.orders.proof import unseal

# Conversation ids of channels whose sender id is the customer's phone number
# ("whatsapp:+5215512345678", "twilio:whatsapp:+52...", "sms:+52..."): the provider has
# already proven the phone, so the customer owns the orders placed with it.
_PHONE_CHANNELS = ("whatsapp", "twilio", "sms")
_PHONE_SENDER = re.compile(r"^(?:[a-z]+:)*\+?(\d{8,15})$")

# Response placeholders the order actions fill (utter_message keyword arguments); the others
# are store facts or slots (tests/unit/store/test_facts.py checks every placeholder is one).
FILLED_PLACEHOLDERS = frozenset(
    {"items", "carrier", "tracking_number", "expected_date", "delivered_date", "orders"}
    | {"attempts_left", "status", "total", "return_number", "deadline", "invoice_url"}
    | {"line", "subtotal", "shipping", "contact_shown", "delivery_shown", "payment_shown"}
    | {"product_name", "options", "max_quantity", "available", "current", "new", "request"}
    | {"detail", "email"}
)


@lru_cache(maxsize=1)
def store() -> CommerceBackend:
    """The commerce backend of this process (one engine and connection pool, shared)."""
    return SqlCommerceBackend(make_engine())


def language(tracker: Tracker) -> str:
    """The conversation's language slot: "es" (default) or "en"."""
    return "en" if tracker.get_slot("language") == "en" else "es"


def channel_phone(tracker: Tracker) -> str | None:
    """The phone number a phone-based channel already proved, in E.164, else None.

    Trusted only when the message really came through that channel's connector (the input
    channel Rasa records), never from the sender id alone: anyone can post
    `"sender": "whatsapp:+52..."` to an open channel such as the REST webhook.
    """
    if (tracker.get_latest_input_channel() or "").lower() not in _PHONE_CHANNELS:
        return None
    return phone_in_sender_id(tracker.sender_id)


def phone_in_sender_id(sender_id: str) -> str | None:
    """The E.164 phone in a phone channel's conversation id ("whatsapp:+52155..."), else None."""
    if sender_id.split(":", 1)[0].lower() not in _PHONE_CHANNELS:
        return None
    match = _PHONE_SENDER.match(sender_id.lower())
    return normalize_phone("+" + match.group(1)) if match else None


def verified_contacts(tracker: Tracker) -> dict[str, str]:
    """Contacts this customer has proven: the channel phone, plus any verified in this chat.

    `verified_contact` holds a sealed proof (actions/orders/proof.py), set by the lookup when
    the customer passed verification; it counts only on the channel and conversation that
    gave it, and until it expires.
    """
    contacts: dict[str, str] = {}
    phone = channel_phone(tracker)
    if phone:
        contacts["phone"] = phone
    proof = unseal(tracker.get_slot("verified_contact"), tracker)
    if proof is not None:
        normalize = normalize_phone if proof.kind == "phone" else normalize_email
        normalized = normalize(proof.contact)
        if normalized:
            contacts.setdefault(proof.kind, normalized)
    return contacts


def strongly_owns(order: HasContact, tracker: Tracker) -> bool:
    """Whether the customer proved owning `order` well enough to change it.

    Writing from the order's phone on a phone channel is (the provider verified the number);
    so is a sealed proof made with the order's email or a one-time code (Proof.strong).
    Typed phone digits are not: anyone who has the number knows them.
    """
    phone = channel_phone(tracker)
    if phone and normalize_phone(order.phone) == phone:
        return True
    proof = unseal(tracker.get_slot("verified_contact"), tracker)
    if proof is None or not proof.strong:
        return False
    return owns(order, {proof.kind: proof.contact})


def owns(order: HasContact, contacts: dict[str, str]) -> bool:
    """Whether any proven contact of the customer is the order's phone or email."""
    phone, email = contacts.get("phone"), contacts.get("email")
    return bool(
        (phone and normalize_phone(order.phone) == phone)
        or (email and normalize_email(order.email) == email)
    )


def say_date(day: date, lang: str) -> str:
    """A date in words: "el martes 25 de noviembre" / "Tuesday, November 25"."""
    weekday = WEEKDAYS[lang][day.weekday()]
    month = MONTHS[lang][day.month - 1]
    if lang == "en":
        return f"{weekday}, {month} {day.day}"
    return f"el {weekday} {day.day} de {month}"


def say_items(order: OrderView, lang: str) -> str:
    """One line per item: "2 × Camiseta básica (M, negro)"."""
    lines = []
    for item in order.items:
        variant = ", ".join(part for part in (item.size, item.colour) if part)
        suffix = f" ({variant})" if variant else ""
        lines.append(f"{item.quantity} × {item.product_name}{suffix}")
    return "\n".join(lines)


def entity_value(tracker: Tracker, name: str) -> str | None:
    """The value of the latest message's first `name` entity, if there is one."""
    for found in (tracker.latest_message or {}).get("entities", []):
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None


def slot_text(tracker: Tracker, name: str) -> str | None:
    """A slot's value as text, or None when unset."""
    value: Any = tracker.get_slot(name)
    return None if value is None else str(value)


def media_in(tracker: Tracker) -> bool:
    """Whether the latest customer message carried a photo or file the channel stored.

    A photo with a caption reaches NLU as its caption (any intent), so the file is read from
    the message metadata the channels core adds, not from the intent.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            media = (event.get("metadata") or {}).get("media") or []
            return any(item.get("url") and not item.get("refused") for item in media)
    return False


def say_money(cents: int) -> str:
    """An amount in the store's currency: "$1,299.00 MXN"."""
    return f"{money(cents)} MXN"
