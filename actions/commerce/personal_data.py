"""What the store holds about a customer: found, handed over and erased here (docs/privacy.md).

The store has no customers table: a customer is the phone and email on their orders
(actions/commerce/models.py). Besides the orders, it keeps a customer's traces of proving
who they are: lookups counted per sender (`lookup_attempts`, a digest of the sender id),
wrong proofs and one-time codes per source (a keyed pseudonym of the channel identity,
actions/commerce/codes.py `proof_source`) and per order.

- `linked`: the orders of these phones or emails, and every contact on them (an email leads
  to its orders, and their phone to the customer's channels);
- `orders_of`: those orders as the bot saw them (`OrderView`), with their returns;
- `erase`: an order is a sale the business must keep (amounts, items, status, dates: tax
  and accounting law), so it stays with the person taken out: the name, phone, email,
  street, city, postal code and tracking number are blanked, and a return keeps its status
  but not the customer's words. The email becomes "" rather than NULL because an order must
  keep a contact (CHECK `ck_orders_contact`); like migration 0002's empty contacts, it never
  matches a lookup, an ownership proof or a code (`normalize_email("")` is None), so an
  erased order can no longer be claimed by anyone. The lookups, wrong proofs and codes of the
  person's conversations and orders are deleted.

Phones and emails are compared the way orders store them (`normalize_phone`,
`normalize_email`), so every spelling of a contact finds the same orders.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.commerce.codes import proof_source
from actions.commerce.models import (
    LookupAttempt,
    OneTimeCode,
    Order,
    Return,
    VerificationFailure,
)
from actions.commerce.sql import order_view, sender_key
from actions.commerce.verification import normalize_email, normalize_phone

_CHUNK = 500


@dataclass(frozen=True)
class Linked:
    """A customer in the store: their orders and every contact written on them."""

    order_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values), key=str)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _contacts(phones: Iterable[str], emails: Iterable[str]) -> tuple[set[str], set[str]]:
    normal_phones = {found for found in (normalize_phone(p) for p in phones) if found}
    normal_emails = {found for found in (normalize_email(e) for e in emails) if found}
    return normal_phones, normal_emails


def _matching(phones: set[str], emails: set[str]) -> Any:
    conditions = [Order.phone.in_(chunk) for chunk in _chunks(phones)]
    conditions += [Order.email.in_(chunk) for chunk in _chunks(emails)]
    return or_(*conditions) if conditions else None


def linked(engine: Engine, *, phones: Iterable[str] = (), emails: Iterable[str] = ()) -> Linked:
    """The orders placed with these phones or emails, and the contacts on them."""
    normal_phones, normal_emails = _contacts(phones, emails)
    condition = _matching(normal_phones, normal_emails)
    if condition is None:
        return Linked()
    with Session(engine, future=True) as session:
        rows = session.execute(select(Order.number, Order.phone, Order.email).where(condition))
        found = rows.all()
    return Linked(
        order_numbers=tuple(sorted({row.number for row in found})),
        phones=tuple(sorted({row.phone for row in found if row.phone})),
        emails=tuple(sorted({row.email for row in found if row.email})),
    )


def orders_of(
    engine: Engine, *, phones: Iterable[str] = (), emails: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """These contacts' orders as the bot saw them (`OrderView`) with their returns, oldest first."""
    normal_phones, normal_emails = _contacts(phones, emails)
    condition = _matching(normal_phones, normal_emails)
    if condition is None:
        return []
    found = []
    with Session(engine, future=True) as session:
        orders = session.execute(
            select(Order).where(condition).order_by(Order.created_at, Order.id)
        ).scalars()
        for order in orders:
            view = plain(dataclasses.asdict(order_view(order)))
            returns = session.execute(
                select(Return).where(Return.order_id == order.id).order_by(Return.id)
            ).scalars()
            view["returns"] = [
                {
                    "number": row.number,
                    "reason": row.reason,
                    "status": row.status,
                    "created_at": plain(row.created_at),
                }
                for row in returns
            ]
            found.append(view)
    return found


def proof_sources(conversation_ids: Iterable[str], channels: Iterable[str] = ()) -> set[str]:
    """Every `proof_source` these conversations may have been counted under.

    Rasa's input channel is the first part of a conversation id ("twilio" for
    "twilio:whatsapp:+52…"); a tracker without one gives "" (and `channels` adds others).
    """
    sources: set[str] = set()
    names = {"", *channels}
    for conversation_id in conversation_ids:
        candidates = names | (
            {conversation_id.split(":", 1)[0]} if ":" in conversation_id else set()
        )
        sources.update(proof_source(channel, conversation_id) for channel in candidates)
    return sources


def erase(
    engine: Engine,
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    conversation_ids: Iterable[str] = (),
    channels: Iterable[str] = (),
) -> dict[str, int]:
    """Takes the person out of their orders; deletes their lookups, wrong proofs and codes.

    Args:
        engine: The store's database.
        phones: The person's phones, any spelling.
        emails: The person's emails, any case.
        conversation_ids: Their channel identities (Rasa sender ids): lookups and proofs
            were counted under these.
        channels: Rasa input channel names other than the conversation ids' prefixes.

    Returns how many rows of each kind were blanked or deleted. Idempotent: an erased order
    has no contact left to be found by.
    """
    normal_phones, normal_emails = _contacts(phones, emails)
    conversation_ids = list(conversation_ids)
    senders = {sender_key(conversation_id) for conversation_id in conversation_ids}
    sources = proof_sources(conversation_ids, channels)
    counts = {"orders": 0, "returns": 0, "lookup_attempts": 0, "verification_failures": 0}
    counts["one_time_codes"] = 0
    condition = _matching(normal_phones, normal_emails)
    with Session(engine, future=True) as session, session.begin():
        numbers: set[str] = set()
        if condition is not None:
            found = session.execute(select(Order.id, Order.number).where(condition)).all()
            numbers = {row.number for row in found}
            ids = [row.id for row in found]
            for chunk in _chunks(ids):
                counts["orders"] += session.execute(
                    update(Order)
                    .where(Order.id.in_(chunk))
                    .values(
                        customer_name="",
                        phone=None,
                        email="",
                        street="",
                        city="",
                        postal_code="",
                        tracking_number=None,
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
                counts["returns"] += session.execute(
                    update(Return)
                    .where(Return.order_id.in_(chunk), Return.reason != "")
                    .values(reason="")
                    .execution_options(synchronize_session=False)
                ).rowcount
        for chunk in _chunks(senders):
            counts["lookup_attempts"] += session.execute(
                delete(LookupAttempt)
                .where(LookupAttempt.sender.in_(chunk))
                .execution_options(synchronize_session=False)
            ).rowcount
        for table, key in (
            (VerificationFailure, "verification_failures"),
            (OneTimeCode, "one_time_codes"),
        ):
            conditions = [table.source.in_(chunk) for chunk in _chunks(sources)]
            conditions += [table.order_number.in_(chunk) for chunk in _chunks(numbers)]
            if conditions:
                counts[key] += session.execute(
                    delete(table)
                    .where(or_(*conditions))
                    .execution_options(synchronize_session=False)
                ).rowcount
    return counts


def plain(value: Any) -> Any:
    """`value` with enums, dates and tuples made JSON-ready (dates as ISO 8601)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
