"""The demo store's tables, as SQLAlchemy ORM models (SQLAlchemy 1.4, 2.0-style usage).

These models describe the schema for the SQL backend and for Alembic's autogenerate; the
schema itself is created only by the migrations in `migrations/versions/` (never by
`create_all`), so a change here needs a new migration.

Constraint names follow `NAMING_CONVENTION`, as the Alembic docs recommend: constraints get
predictable names on every database, so later migrations can drop or alter them by name
(SQLite and PostgreSQL would otherwise name them differently, or not at all).

Table names avoid Rasa's (`events`) and other modules' tables in a shared database, and the
Alembic version table is `commerce_alembic_version` for the same reason.

Datetimes are stored as naive UTC (`UtcDateTime`) because SQLite has no timezone-aware type;
the column type converts to and from aware UTC datetimes, so the rest of the code only ever
sees aware ones.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from actions.commerce.backend import DeliveryOption, OrderStatus, PaymentMethod

__all__ = [
    "CONTACT_CHECK",
    "NAMING_CONVENTION",
    "RETURN_STATUSES",
    "Base",
    "Counter",
    "LookupAttempt",
    "Order",
    "OrderItem",
    "Product",
    "Return",
    "UtcDateTime",
    "Variant",
    "metadata",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base: Any = declarative_base(metadata=metadata)

RETURN_STATUSES = ("requested", "received", "refunded", "rejected")
# An order needs a way to reach the customer: a phone, an email, or both.
CONTACT_CHECK = "phone IS NOT NULL OR email IS NOT NULL"


def _in(column: str, values: Any) -> str:
    """A CHECK expression allowing only `values` (constants of this module, not user input)."""
    return f"{column} IN ({', '.join(repr(str(getattr(v, 'value', v))) for v in values)})"


class UtcDateTime(TypeDecorator):
    """A DateTime stored as naive UTC and read back as aware UTC, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Aware → naive UTC; naive values are refused (their timezone would be a guess)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Naive UTC → aware UTC."""
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Product(Base):
    """A catalogue product; what is sold are its variants."""

    __tablename__ = "products"

    id = Column(Integer, primary_key=True)
    slug = Column(String(80), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    name_en = Column(String(120), nullable=False)
    category = Column(String(40), nullable=False)
    # Other names customers use, "|"-separated ("tenis|sneakers"): regional words (playera,
    # remera, polera...) and English ones, for find_products.
    aliases = Column(String(500), nullable=False, default="")

    variants = relationship(
        "Variant", back_populates="product", order_by="Variant.id", lazy="selectin"
    )


class Variant(Base):
    """A size in a colour of a product, with its own SKU, price and stock."""

    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False, index=True)
    sku = Column(String(40), nullable=False, unique=True)
    size = Column(String(20), nullable=False)
    colour = Column(String(40), nullable=False)
    colour_en = Column(String(40), nullable=False)
    price_cents = Column(Integer, nullable=False)
    stock = Column(Integer, nullable=False)

    product = relationship("Product", back_populates="variants")


class Order(Base):
    """An order with its contact, delivery and shipment details.

    There is no customers table: the store has no accounts, and identifies customers by the
    phone and email on each order. Either may be missing (the order form asks for a phone
    *or* an email; migration 0002), never both: CHECK `ck_orders_contact`.
    """

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("status", OrderStatus), name="status"),
        CheckConstraint(_in("delivery_option", DeliveryOption), name="delivery_option"),
        CheckConstraint(_in("payment_method", PaymentMethod), name="payment_method"),
        CheckConstraint("total_cents = subtotal_cents + shipping_cents", name="total"),
        CheckConstraint(CONTACT_CHECK, name="contact"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    status = Column(String(20), nullable=False)
    customer_name = Column(String(120), nullable=False)
    phone = Column(String(20), index=True)  # E.164, or NULL if only the email was given
    email = Column(String(254), index=True)  # lowercase, or NULL if only the phone was given
    street = Column(String(200), nullable=False)
    city = Column(String(100), nullable=False)
    postal_code = Column(String(10), nullable=False)
    country = Column(String(2), nullable=False)
    delivery_option = Column(String(20), nullable=False)
    payment_method = Column(String(20), nullable=False)
    carrier = Column(String(40))
    tracking_number = Column(String(40))
    expected_delivery = Column(Date)
    created_at = Column(UtcDateTime, nullable=False)
    shipped_at = Column(UtcDateTime)
    delivered_at = Column(UtcDateTime)
    cancelled_at = Column(UtcDateTime)
    subtotal_cents = Column(Integer, nullable=False)
    shipping_cents = Column(Integer, nullable=False)
    total_cents = Column(Integer, nullable=False)

    items = relationship(
        "OrderItem", back_populates="order", order_by="OrderItem.id", lazy="selectin"
    )
    returns = relationship("Return", back_populates="order", order_by="Return.id")


class OrderItem(Base):
    """An order line.

    Name, size, colour and price are copied from the variant so that the order never changes
    when the catalogue does.
    """

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    variant_id = Column(Integer, ForeignKey("variants.id"), nullable=False, index=True)
    sku = Column(String(40), nullable=False)
    product_name = Column(String(120), nullable=False)
    size = Column(String(20), nullable=False)
    colour = Column(String(40), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price_cents = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")


class Return(Base):
    """A return request for a delivered order."""

    __tablename__ = "returns"
    __table_args__ = (CheckConstraint(_in("status", RETURN_STATUSES), name="status"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    reason = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)

    order = relationship("Order", back_populates="returns")


class LookupAttempt(Base):
    """One order lookup by a sender, for throttling across processes.

    `sender` holds a keyed pseudonym of the sender id (`sql.sender_key`), not the id itself:
    sender ids are often phone numbers, and throttling only needs to tell senders apart.
    """

    __tablename__ = "lookup_attempts"
    __table_args__ = (Index("ix_lookup_attempts_sender_at", "sender", "at"),)

    id = Column(Integer, primary_key=True)
    sender = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False, index=True)


class VerificationFailure(Base):
    """A wrong proof of ownership: for which order, from which source, when.

    `source` is a keyed pseudonym of the channel identity (hilo/pseudonyms.py). Failures for an
    order are counted across every source, so many conversation ids do not buy more guesses.
    """

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_order_number_at", "order_number", "at"),
        Index("ix_verification_failures_source_at", "source", "at"),
    )

    id = Column(Integer, primary_key=True)
    order_number = Column(String(20), nullable=False)
    source = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False, index=True)


class OneTimeCode(Base):
    """A code sent to an order's email, stored as an HMAC (actions/commerce/codes.py).

    One live code per order and source: asking again while one holds sends nothing new.
    """

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_order_number_source", "order_number", "source"),)

    id = Column(Integer, primary_key=True)
    order_number = Column(String(20), nullable=False)
    source = Column(String(64), nullable=False)
    digest = Column(String(64), nullable=False)
    expires_at = Column(UtcDateTime, nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    used = Column(Boolean, nullable=False, default=False)


class Counter(Base):
    """Named counters for customer-facing numbers (orders, returns).

    Allocating a number is `UPDATE counters SET value = value + 1` followed by a read in the
    same transaction: the UPDATE locks the row (PostgreSQL) or the database (SQLite) until
    commit, so concurrent transactions get consecutive, distinct numbers, and a rolled-back
    order gives its number back.
    """

    __tablename__ = "counters"

    name = Column(String(40), primary_key=True)
    value = Column(Integer, nullable=False)
