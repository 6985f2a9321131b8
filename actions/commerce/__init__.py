"""Commerce data layer: the demo store's orders, catalogue and stock, behind one interface.

The bot's actions use `CommerceBackend` (and its frozen views and errors) only; which store
sits behind it is a deployment choice. Today that is `SqlCommerceBackend` on the demo
database (SQLite under var/ by default, or `DATABASE_URL`); `open_backend()` builds it.

    from actions.commerce import OrderNotFound, contact_matches, open_backend

    backend = open_backend()
    try:
        order = backend.get_order("10001")
    except OrderNotFound:
        ...
    if contact_matches(order, phone=sender_phone):
        ...

Modules: `backend` (interface, views, errors, store rules, fuzzy matching), `verification`
(ownership checks and contact validation), `sql` (the SQL backend), `models` (tables),
`database` (URL, engine, migrations: `database_url`, `make_engine`, `migrate`, `downgrade`),
`seed` (demo data), `invoices` (receipt PDFs).
docs/demo-store.md describes the demo data.
"""

from __future__ import annotations

from actions.commerce.backend import (
    LOOKUP_LIMIT_PER_MINUTE,
    LOOKUP_WINDOW,
    ORDER_FAILURE_LIMIT,
    RETURN_WINDOW,
    SOURCE_FAILURE_LIMIT,
    VERIFICATION_WINDOW,
    Address,
    CancelResult,
    CommerceBackend,
    CommerceError,
    DeliveryOption,
    InvalidAddress,
    InvalidContact,
    InvalidOrderState,
    InvalidQuantity,
    InvalidRequest,
    NewOrder,
    NotFound,
    OrderContacts,
    OrderItemView,
    OrderLine,
    OrderNotFound,
    OrderStatus,
    OrderView,
    OutOfStock,
    PaymentMethod,
    ProductMatch,
    ProductNotFound,
    ProductView,
    ReturnAlreadyRequested,
    ReturnView,
    ReturnWindowClosed,
    StockCheck,
    VariantView,
    VerificationFailures,
    shipping_cents,
)
from actions.commerce.invoices import invoice_pdf
from actions.commerce.sql import SqlCommerceBackend
from actions.commerce.verification import contact_matches, normalize_email, normalize_phone

__all__ = [
    "LOOKUP_LIMIT_PER_MINUTE",
    "LOOKUP_WINDOW",
    "ORDER_FAILURE_LIMIT",
    "RETURN_WINDOW",
    "SOURCE_FAILURE_LIMIT",
    "VERIFICATION_WINDOW",
    "Address",
    "CancelResult",
    "CommerceBackend",
    "CommerceError",
    "DeliveryOption",
    "InvalidAddress",
    "InvalidContact",
    "InvalidOrderState",
    "InvalidQuantity",
    "InvalidRequest",
    "NewOrder",
    "NotFound",
    "OrderContacts",
    "OrderItemView",
    "OrderLine",
    "OrderNotFound",
    "OrderStatus",
    "OrderView",
    "OutOfStock",
    "PaymentMethod",
    "ProductMatch",
    "ProductNotFound",
    "ProductView",
    "ReturnAlreadyRequested",
    "ReturnView",
    "ReturnWindowClosed",
    "SqlCommerceBackend",
    "StockCheck",
    "VariantView",
    "VerificationFailures",
    "contact_matches",
    "invoice_pdf",
    "normalize_email",
    "normalize_phone",
    "open_backend",
    "shipping_cents",
]


def open_backend(url: str | None = None) -> SqlCommerceBackend:
    """The SQL backend on `url` (default: `DATABASE_URL` or var/commerce.db), migrated to head.

    Migrating on open is cheap when already at head and means a fresh checkout works
    without a separate setup step. Call once per process and share the backend: it holds
    the connection pool.
    """
    # Imported here, not at the top: `python -m actions.commerce.database` must be able to
    # run that module without the package having imported it first.
    from actions.commerce.database import database_url, make_engine, migrate

    url = url or database_url()
    migrate(url)
    return SqlCommerceBackend(make_engine(url))
