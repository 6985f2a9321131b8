"""`SqlCommerceBackend`: the commerce backend on the demo store's SQL database.

Works on SQLite (the default, `var/commerce.db`) and PostgreSQL with the same code. Every
method is one short transaction in its own ORM session, and returns frozen views, never ORM
objects, so nothing lazy-loads after the session is gone and callers cannot write through.

Concurrency, which matters because several action-server processes share one database:

* Stock is taken with one conditional UPDATE per variant
  (`SET stock = stock - n WHERE id = ? AND stock >= n`): two buyers of the last unit cannot
  both succeed, and the CHECK (stock >= 0) backs this up.
* Order and return numbers come from the `counters` table: UPDATE first (it locks the row
  on PostgreSQL, and takes SQLite's write lock), then read. Concurrent orders get distinct
  consecutive numbers without retries; a failed order's transaction rolls its number back.
* Status changes are conditional UPDATEs (`WHERE status IN (allowed)`), so a cancel racing a
  shipment cannot cancel a parcel that already left.
* Changing an order's items starts with a no-op UPDATE of the order (`WHERE status IN
  (allowed)`), which locks its row (PostgreSQL) or takes the write lock (SQLite) before
  anything is read: a cancel or shipment waits for the change, or the change sees it. Its
  variants' rows are then updated in id order, so two swaps in opposite directions cannot
  deadlock.
* Write transactions begin with their first write, so a SQLite transaction never holds a
  read snapshot while waiting for the write lock (which would fail rather than wait).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from actions.commerce.backend import (
    CANCELLABLE_STATUSES,
    EDITABLE_STATUSES,
    LOOKUP_WINDOW,
    MAX_LINE_QUANTITY,
    MAX_ORDER_LINES,
    RETURN_WINDOW,
    VERIFICATION_WINDOW,
    Address,
    CancelResult,
    DeliveryOption,
    InvalidContact,
    InvalidOrderState,
    InvalidQuantity,
    InvalidRequest,
    NewOrder,
    OrderContacts,
    OrderItemView,
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
    normalize_order_number,
    rank_products,
    shipping_cents,
)
from actions.commerce.codes import CODE_ATTEMPTS, CODE_TTL, CodeCheck, code_digest, new_code
from actions.commerce.models import (
    Counter,
    LookupAttempt,
    OneTimeCode,
    Order,
    OrderItem,
    Product,
    Return,
    Variant,
    VerificationFailure,
)
from actions.commerce.verification import normalize_email, normalize_phone, validate_address
from hilo.pseudonyms import pseudonym

__all__ = ["SqlCommerceBackend", "allocate_numbers", "order_view", "product_view"]

logger = logging.getLogger(__name__)

ORDER_COUNTER = "order_number"
RETURN_COUNTER = "return_number"
# A return still in progress: another one for the same order is a duplicate.
_OPEN_RETURN_STATUSES = ("requested", "received")
_MAX_REASON_LENGTH = 1000
_MAX_NAME_LENGTH = 120


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def allocate_numbers(session: Session, counter: str, count: int = 1) -> int:
    """Reserves `count` consecutive numbers of `counter`; returns the first.

    The UPDATE comes first so that it takes the row lock (PostgreSQL) or the write lock
    (SQLite) before the read: concurrent callers serialize on it and never see the same
    value. The numbers are handed out for good only when the caller's transaction commits.
    """
    result = session.execute(
        update(Counter).where(Counter.name == counter).values(value=Counter.value + count)
    )
    if result.rowcount != 1:
        raise RuntimeError(f"counter {counter!r} is missing: is the database migrated?")
    last: int = session.execute(select(Counter.value).where(Counter.name == counter)).scalar_one()
    return last - count + 1


def variant_view(variant: Variant, product_slug: str) -> VariantView:
    """The frozen view of a variant row."""
    return VariantView(
        sku=variant.sku,
        product_id=product_slug,
        size=variant.size,
        colour=variant.colour,
        colour_en=variant.colour_en,
        price_cents=variant.price_cents,
        stock=variant.stock,
    )


def product_view(product: Product) -> ProductView:
    """The frozen view of a product row with its (eagerly loaded) variants."""
    return ProductView(
        id=product.slug,
        name=product.name,
        name_en=product.name_en,
        category=product.category,
        variants=tuple(variant_view(variant, product.slug) for variant in product.variants),
        aliases=tuple(alias for alias in (product.aliases or "").split("|") if alias),
    )


def order_view(order: Order) -> OrderView:
    """The frozen view of an order row with its (eagerly loaded) items."""
    return OrderView(
        number=order.number,
        status=OrderStatus(order.status),
        customer_name=order.customer_name,
        phone=order.phone,
        email=order.email,
        address=Address(order.street, order.city, order.postal_code, order.country),
        delivery_option=DeliveryOption(order.delivery_option),
        payment_method=PaymentMethod(order.payment_method),
        created_at=order.created_at,
        items=tuple(
            OrderItemView(
                sku=item.sku,
                product_name=item.product_name,
                size=item.size,
                colour=item.colour,
                quantity=item.quantity,
                unit_price_cents=item.unit_price_cents,
            )
            for item in order.items
        ),
        subtotal_cents=order.subtotal_cents,
        shipping_cents=order.shipping_cents,
        total_cents=order.total_cents,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        expected_delivery=order.expected_delivery,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
    )


def _return_view(row: Return, order_number: str) -> ReturnView:
    return ReturnView(
        number=row.number,
        order_number=order_number,
        reason=row.reason,
        status=row.status,
        created_at=row.created_at,
    )


def _check_quantity(quantity: Any) -> int:
    # bool is an int in Python; True is not "one unit".
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity("quantity must be a whole number")
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(f"quantity must be between 1 and {MAX_LINE_QUANTITY}")
    return quantity


def _sku(value: Any) -> str:
    """A SKU as stored (trimmed, uppercase); ProductNotFound if it cannot be one."""
    sku = str(value if value is not None else "").strip().upper()
    if not sku or len(sku) > 40:
        raise ProductNotFound(sku[:40])
    return sku


def _contact(value: Any, normalize: Callable[[str], str | None], field: str) -> str | None:
    """The normalized contact; None if not given (None or blank); InvalidContact if malformed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    normalized = normalize(value)
    if normalized is None:
        raise InvalidContact(field)
    return normalized


def sender_key(sender: str) -> str:
    """What lookup_attempts stores for a sender: a keyed pseudonym, since ids are often phones.

    A plain SHA-256 of "whatsapp:+52…" could be reversed by hashing every phone number of a
    country; the key (hilo/pseudonyms.py) prevents that. Rows written with the old plain
    digest simply stop counting: they only throttled lookups for a few minutes.
    """
    return pseudonym(sender, 64)


class SqlCommerceBackend:
    """`CommerceBackend` on the store database (see the module docstring for concurrency).

    Args:
        engine: A migrated database (`database.make_engine`, `database.migrate`).
        clock: Returns the current aware UTC datetime; tests pass a fixed one.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utcnow) -> None:
        self.engine = engine
        self._clock = clock

    def _session(self) -> Session:
        # expire_on_commit=False: views are built after commit without reloading rows.
        return Session(self.engine, future=True, expire_on_commit=False)

    # ------------------------------------------------------------------ orders (read)

    def _load_order(self, session: Session, number: str) -> Order | None:
        order: Order | None = session.execute(
            select(Order).where(Order.number == number)
        ).scalar_one_or_none()
        return order

    def get_order(self, order_id: str) -> OrderView:
        """The order with that number. Raises OrderNotFound (also for malformed numbers)."""
        number = normalize_order_number(order_id)
        if number is None:
            raise OrderNotFound(str(order_id)[:40])
        with self._session() as session:
            order = self._load_order(session, number)
            if order is None:
                raise OrderNotFound(number)
            return order_view(order)

    def order_contacts(self, order_id: str) -> OrderContacts | None:
        """An order's phone and email, or None (also for malformed numbers): one query."""
        number = normalize_order_number(order_id)
        with self._session() as session:
            row = session.execute(
                select(Order.phone, Order.email).where(Order.number == (number or ""))
            ).one_or_none()
        return None if row is None else OrderContacts(phone=row.phone, email=row.email)

    def orders_for_contact(
        self, phone: str | None = None, email: str | None = None, limit: int = 20
    ) -> list[OrderView]:
        """Orders placed with that phone or email, newest first ([] if neither is valid).

        Both are normalized the way orders store them (E.164, lowercase), so one indexed
        equality per contact finds every spelling of the same number or address. An order's
        missing contact is NULL, which equals nothing.
        """
        conditions = []
        normalized_phone = normalize_phone(phone) if phone is not None else None
        normalized_email = normalize_email(email) if email is not None else None
        if normalized_phone:
            conditions.append(Order.phone == normalized_phone)
        if normalized_email:
            conditions.append(Order.email == normalized_email)
        if not conditions or limit <= 0:
            return []
        with self._session() as session:
            orders = (
                session.execute(
                    select(Order)
                    .where(or_(*conditions))
                    .order_by(Order.created_at.desc(), Order.id.desc())
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            return [order_view(order) for order in orders]

    # ------------------------------------------------------------------ catalogue

    def _catalogue(self) -> list[ProductView]:
        """Every product with its variants, read with two plain queries.

        Rows, not ORM objects: building ~300 ORM instances per search cost more than the
        search itself.
        """
        with self.engine.connect() as connection:
            products = connection.execute(
                select(Product.id, Product.slug, Product.name, Product.name_en,
                       Product.category, Product.aliases).order_by(Product.id)
            ).all()  # fmt: skip
            variants: dict[int, list[VariantView]] = {}
            slugs = {product.id: product.slug for product in products}
            for row in connection.execute(
                select(Variant.product_id, Variant.sku, Variant.size, Variant.colour,
                       Variant.colour_en, Variant.price_cents, Variant.stock).order_by(Variant.id)
            ):  # fmt: skip
                variants.setdefault(row.product_id, []).append(
                    VariantView(row.sku, slugs[row.product_id], row.size, row.colour,
                                row.colour_en, row.price_cents, row.stock)
                )  # fmt: skip
        return [
            ProductView(
                id=product.slug,
                name=product.name,
                name_en=product.name_en,
                category=product.category,
                variants=tuple(variants.get(product.id, ())),
                aliases=tuple(alias for alias in (product.aliases or "").split("|") if alias),
            )
            for product in products
        ]

    def find_products(self, query: str, limit: int = 5) -> list[ProductMatch]:
        """Products whose name resembles `query`, best first (see backend.rank_products).

        The demo catalogue is a few dozen products, so it is ranked in Python on every call;
        a large catalogue would prefilter in SQL (or use the store's search).
        """
        if not isinstance(query, str) or not query.strip():
            return []
        return rank_products(query[:200], self._catalogue(), limit)

    def get_product(self, key: str) -> ProductView:
        """A product by id (slug), or the product of the variant with that SKU."""
        if not isinstance(key, str) or not key.strip() or len(key) > 80:
            raise ProductNotFound(str(key)[:40])
        key = key.strip()
        with self._session() as session:
            product = session.execute(
                select(Product).where(Product.slug == key.lower())
            ).scalar_one_or_none()
            if product is None:
                product = session.execute(
                    select(Product).join(Variant).where(Variant.sku == key.upper())
                ).scalar_one_or_none()
            if product is None:
                raise ProductNotFound(key)
            return product_view(product)

    def check_stock(self, sku: str, quantity: int) -> StockCheck:
        """Whether `quantity` units of the variant are available now (nothing is reserved)."""
        quantity = _check_quantity(quantity)
        sku = str(sku).strip().upper()
        with self._session() as session:
            stock = session.execute(
                select(Variant.stock).where(Variant.sku == sku)
            ).scalar_one_or_none()
        if stock is None:
            raise ProductNotFound(sku)
        return StockCheck(sku=sku, requested=quantity, available=stock)

    # ------------------------------------------------------------------ orders (write)

    def create_order(self, order: NewOrder) -> OrderView:
        """Places an order in pending_payment with a new number, taking its stock atomically.

        Everything is validated before the transaction: the contact needs a valid phone, a
        valid email, or both (a missing one is stored as NULL; a malformed one is refused,
        not dropped). Inside the transaction, the number is allocated first (taking the write
        lock), then each variant's stock is taken with a conditional UPDATE. Any failure rolls
        back the whole order, number and stock included.
        """
        quantities = self._order_quantities(order.lines)
        name = " ".join(str(order.customer_name or "").split())
        if not name or len(name) > _MAX_NAME_LENGTH or any(c in name for c in "<>{}"):
            raise InvalidRequest("invalid customer name")
        phone = _contact(order.phone, normalize_phone, "phone")
        email = _contact(order.email, normalize_email, "email")
        if phone is None and email is None:
            raise InvalidContact("contact")
        address = validate_address(order.address)
        try:
            delivery = DeliveryOption(order.delivery_option)
            payment = PaymentMethod(order.payment_method)
        except ValueError as error:
            raise InvalidRequest("unknown delivery option or payment method") from error

        now = self._clock()
        with self._session() as session, session.begin():
            number = str(allocate_numbers(session, ORDER_COUNTER))
            variants = {
                variant.sku: variant
                for variant in session.execute(
                    select(Variant)
                    .options(selectinload(Variant.product))
                    .where(Variant.sku.in_(list(quantities)))
                ).scalars()
            }
            for sku, quantity in quantities.items():
                variant = variants.get(sku)
                if variant is None:
                    raise ProductNotFound(sku)
                taken = session.execute(
                    update(Variant)
                    .where(Variant.id == variant.id, Variant.stock >= quantity)
                    .values(stock=Variant.stock - quantity)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:
                    available = session.execute(
                        select(Variant.stock).where(Variant.id == variant.id)
                    ).scalar_one()
                    raise OutOfStock(sku, quantity, available)
            subtotal = sum(variants[sku].price_cents * qty for sku, qty in quantities.items())
            shipping = shipping_cents(delivery, subtotal)
            row = Order(
                number=number,
                status=OrderStatus.PENDING_PAYMENT.value,
                customer_name=name,
                phone=phone,
                email=email,
                street=address.street,
                city=address.city,
                postal_code=address.postal_code,
                country=address.country,
                delivery_option=delivery.value,
                payment_method=payment.value,
                created_at=now,
                subtotal_cents=subtotal,
                shipping_cents=shipping,
                total_cents=subtotal + shipping,
                items=[
                    OrderItem(
                        variant_id=variants[sku].id,
                        sku=sku,
                        product_name=variants[sku].product.name,
                        size=variants[sku].size,
                        colour=variants[sku].colour,
                        quantity=quantity,
                        unit_price_cents=variants[sku].price_cents,
                    )
                    for sku, quantity in quantities.items()
                ],
            )
            session.add(row)
        logger.info("order %s created with %d line(s)", number, len(quantities))
        return order_view(row)

    @staticmethod
    def _order_quantities(lines: Iterable[Any]) -> dict[str, int]:
        """Quantity per SKU (repeated SKUs summed), validated before touching the database."""
        lines = list(lines or ())
        if not lines:
            raise InvalidQuantity("an order needs at least one line")
        if len(lines) > MAX_ORDER_LINES:
            raise InvalidQuantity(f"an order has at most {MAX_ORDER_LINES} lines")
        quantities: dict[str, int] = {}
        for line in lines:
            sku = str(getattr(line, "sku", "") or "").strip().upper()
            if not sku or len(sku) > 40:
                raise ProductNotFound(sku[:40])
            quantities[sku] = _check_quantity(
                quantities.get(sku, 0) + _check_quantity(line.quantity)
            )
        return quantities

    def _refuse(self, session: Session, number: str, action: str, allowed: Any) -> NoReturn:
        """Raises why a conditional UPDATE on order `number` matched nothing."""
        status = session.execute(
            select(Order.status).where(Order.number == number)
        ).scalar_one_or_none()
        if status is None:
            raise OrderNotFound(number)
        raise InvalidOrderState(number, OrderStatus(status), action, allowed)

    def cancel_order(self, order_id: str) -> CancelResult:
        """Cancels an order that has not shipped and puts its stock back.

        Compare-and-set: read the status, then UPDATE only if it is still that status. If
        the order moved on in between (the warehouse shipped it), read again and decide on
        the new status, so a shipped parcel is never marked cancelled and stock is returned
        exactly once.
        """
        number = normalize_order_number(order_id)
        if number is None:
            raise OrderNotFound(str(order_id)[:40])
        now = self._clock()
        for _attempt in range(5):
            with self._session() as session:
                previous = session.execute(
                    select(Order.status).where(Order.number == number)
                ).scalar_one_or_none()
            if previous is None:
                raise OrderNotFound(number)
            status = OrderStatus(previous)
            if status not in CANCELLABLE_STATUSES:
                raise InvalidOrderState(number, status, "cancel", CANCELLABLE_STATUSES)
            with self._session() as session, session.begin():
                cancelled = session.execute(
                    update(Order)
                    .where(Order.number == number, Order.status == previous)
                    .values(status=OrderStatus.CANCELLED.value, cancelled_at=now)
                    .execution_options(synchronize_session=False)
                )
                if cancelled.rowcount != 1:
                    continue  # the status changed since we read it: decide again
                order = self._load_order(session, number)
                assert order is not None  # noqa: S101 - updated just above in this transaction
                for item in order.items:
                    session.execute(
                        update(Variant)
                        .where(Variant.id == item.variant_id)
                        .values(stock=Variant.stock + item.quantity)
                        .execution_options(synchronize_session=False)
                    )
                view = order_view(order)
            logger.info("order %s cancelled (was %s)", number, previous)
            return CancelResult(order=view, previous_status=status)
        raise RuntimeError("order status kept changing while cancelling; try again")

    def change_address(self, order_id: str, address: Address) -> OrderView:
        """Changes the delivery address of an order the carrier does not have yet."""
        number = normalize_order_number(order_id)
        if number is None:
            raise OrderNotFound(str(order_id)[:40])
        address = validate_address(address)
        allowed = [status.value for status in EDITABLE_STATUSES]
        with self._session() as session, session.begin():
            changed = session.execute(
                update(Order)
                .where(Order.number == number, Order.status.in_(allowed))
                .values(
                    street=address.street,
                    city=address.city,
                    postal_code=address.postal_code,
                    country=address.country,
                )
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:
                self._refuse(session, number, "change_address", EDITABLE_STATUSES)
            order = self._load_order(session, number)
            assert order is not None  # noqa: S101 - updated just above in this transaction
            view = order_view(order)
        logger.info("order %s: delivery address changed", number)
        return view

    def change_item(self, order_id: str, sku: str, new_sku: str) -> OrderView:
        """Swaps a line of an order that has not shipped to another variant of its product.

        The first statement is a no-op conditional UPDATE of the order (`status = status
        WHERE status IN (editable)`): it locks the order's row on PostgreSQL and takes the
        write lock on SQLite, so the status cannot change until commit, and a concurrent
        cancel, shipment or change of the same order waits (or is refused) rather than
        working on stale lines. The new variant's stock is then taken with a conditional
        UPDATE and the old one's put back, in variant id order (no deadlock between two
        swaps in opposite directions). Any refusal rolls the whole transaction back.
        """
        number = normalize_order_number(order_id)
        if number is None:
            raise OrderNotFound(str(order_id)[:40])
        sku, new_sku = _sku(sku), _sku(new_sku)
        if sku == new_sku:
            raise InvalidRequest("the new variant is the one already ordered")
        allowed = [status.value for status in EDITABLE_STATUSES]
        with self._session() as session, session.begin():
            locked = session.execute(
                update(Order)
                .where(Order.number == number, Order.status.in_(allowed))
                .values(status=Order.status)
                .execution_options(synchronize_session=False)
            )
            if locked.rowcount != 1:
                self._refuse(session, number, "change_item", EDITABLE_STATUSES)
            order = self._load_order(session, number)
            assert order is not None  # noqa: S101 - locked just above in this transaction
            item = next((line for line in order.items if line.sku == sku), None)
            if item is None:
                raise ProductNotFound(sku)
            if any(line.sku == new_sku for line in order.items):
                raise InvalidRequest("the new variant is already a line of the order")
            new_variant = session.execute(
                select(Variant).where(Variant.sku == new_sku)
            ).scalar_one_or_none()
            if new_variant is None:
                raise ProductNotFound(new_sku)
            old_product_id = session.execute(
                select(Variant.product_id).where(Variant.id == item.variant_id)
            ).scalar_one()
            if new_variant.product_id != old_product_id:
                raise InvalidRequest("the new variant belongs to another product")

            quantity = item.quantity
            for variant_id in sorted((item.variant_id, new_variant.id)):
                if variant_id == item.variant_id:
                    session.execute(
                        update(Variant)
                        .where(Variant.id == variant_id)
                        .values(stock=Variant.stock + quantity)
                        .execution_options(synchronize_session=False)
                    )
                    continue
                taken = session.execute(
                    update(Variant)
                    .where(Variant.id == variant_id, Variant.stock >= quantity)
                    .values(stock=Variant.stock - quantity)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:
                    available = session.execute(
                        select(Variant.stock).where(Variant.id == variant_id)
                    ).scalar_one()
                    raise OutOfStock(new_sku, quantity, available)

            item.variant_id = new_variant.id
            item.sku = new_variant.sku
            item.size = new_variant.size
            item.colour = new_variant.colour
            item.unit_price_cents = new_variant.price_cents
            subtotal = sum(line.quantity * line.unit_price_cents for line in order.items)
            shipping = shipping_cents(order.delivery_option, subtotal)
            order.subtotal_cents = subtotal
            order.shipping_cents = shipping
            order.total_cents = subtotal + shipping
            view = order_view(order)
        logger.info("order %s: line %s changed to %s", number, sku, new_sku)
        return view

    def create_return(self, order_id: str, reason: str) -> ReturnView:
        """Opens a return for an order delivered within RETURN_WINDOW."""
        number = normalize_order_number(order_id)
        if number is None:
            raise OrderNotFound(str(order_id)[:40])
        reason = " ".join(str(reason or "").split())[:_MAX_REASON_LENGTH]
        if not reason:
            raise InvalidRequest("a return needs a reason")
        now = self._clock()
        with self._session() as session, session.begin():
            # Allocating first takes the write lock, so two requests for the same order
            # serialize and the second sees the first one's return.
            return_number = f"R-{allocate_numbers(session, RETURN_COUNTER):05d}"
            order = session.execute(
                select(Order).where(Order.number == number).with_for_update()
            ).scalar_one_or_none()
            if order is None:
                raise OrderNotFound(number)
            status = OrderStatus(order.status)
            existing = session.execute(
                select(Return)
                .where(Return.order_id == order.id, Return.status.in_(_OPEN_RETURN_STATUSES))
                .order_by(Return.id)
            ).scalar()
            if existing is not None:
                raise ReturnAlreadyRequested(number, status, _return_view(existing, number))
            if status is not OrderStatus.DELIVERED or order.delivered_at is None:
                raise InvalidOrderState(number, status, "return", {OrderStatus.DELIVERED})
            deadline = order.delivered_at + RETURN_WINDOW
            if now > deadline:
                raise ReturnWindowClosed(number, deadline)
            row = Return(
                number=return_number,
                order_id=order.id,
                reason=reason,
                status="requested",
                created_at=now,
            )
            session.add(row)
        logger.info("return %s opened for order %s", return_number, number)
        return _return_view(row, number)

    # ------------------------------------------------------------------ throttling

    def record_lookup_attempt(self, sender: str) -> int:
        """Records an order lookup by `sender`; returns their lookups within LOOKUP_WINDOW.

        Rows older than the window are deleted for this sender as it goes, so the table stays
        as small as the set of recently active senders (see `prune_lookup_attempts`).
        """
        key = sender_key(str(sender))
        now = self._clock()
        since = now - LOOKUP_WINDOW
        with self._session() as session, session.begin():
            session.execute(insert(LookupAttempt).values(sender=key, at=now))
            session.execute(
                delete(LookupAttempt)
                .where(LookupAttempt.sender == key, LookupAttempt.at <= since)
                .execution_options(synchronize_session=False)
            )
            count: int = session.execute(
                select(func.count())
                .select_from(LookupAttempt)
                .where(LookupAttempt.sender == key, LookupAttempt.at > since)
            ).scalar_one()
        return count

    def _failure_counts(self, session: Session, number: str, source: str) -> VerificationFailures:
        since = self._clock() - VERIFICATION_WINDOW
        recent = VerificationFailure.at > since
        by_order = select(func.count()).where(VerificationFailure.order_number == number, recent)
        by_source = select(func.count()).where(VerificationFailure.source == source, recent)
        return VerificationFailures(
            order=session.execute(by_order).scalar_one(),
            source=session.execute(by_source).scalar_one(),
        )

    def verification_failures(self, order_number: str, source: str) -> VerificationFailures:
        """Wrong proofs within VERIFICATION_WINDOW for this order (any source) and this source."""
        number = str(order_number)[:20]
        with self._session() as session:
            return self._failure_counts(session, number, str(source)[:64])

    def record_verification_failure(self, order_number: str, source: str) -> VerificationFailures:
        """Records a wrong proof for `order_number` (existing or not) from `source`."""
        number, source = str(order_number)[:20], str(source)[:64]
        with self._session() as session, session.begin():
            session.execute(
                insert(VerificationFailure).values(
                    order_number=number, source=source, at=self._clock()
                )
            )
            return self._failure_counts(session, number, source)

    def issue_code(self, order_number: str, source: str) -> str | None:
        """A new one-time code for the order and source, or None while one still holds.

        None means "the code already sent is still good": the caller reminds the customer
        instead of sending another, which would void the one on its way.
        """
        number, source = str(order_number)[:20], str(source)[:64]
        now = self._clock()
        live = (
            OneTimeCode.order_number == number,
            OneTimeCode.source == source,
            OneTimeCode.expires_at > now,
            OneTimeCode.used.is_(False),
            OneTimeCode.attempts < CODE_ATTEMPTS,
        )
        with self._session() as session, session.begin():
            if session.execute(select(OneTimeCode.id).where(*live)).first() is not None:
                return None
            code = new_code()
            session.add(
                OneTimeCode(
                    order_number=number,
                    source=source,
                    digest=code_digest(code, number, source),
                    expires_at=now + CODE_TTL,
                    attempts=0,
                    used=False,
                )
            )
        return code

    def check_code(self, order_number: str, source: str, code: str) -> CodeCheck:
        """Whether `code` is the live code for the order and source (it then works no more)."""
        number, source = str(order_number)[:20], str(source)[:64]
        now = self._clock()
        with self._session() as session, session.begin():
            row = session.execute(
                select(OneTimeCode)
                .where(
                    OneTimeCode.order_number == number,
                    OneTimeCode.source == source,
                    OneTimeCode.expires_at > now,
                    OneTimeCode.used.is_(False),
                    OneTimeCode.attempts < CODE_ATTEMPTS,
                )
                .order_by(OneTimeCode.id.desc())
                .limit(1)
                .with_for_update()
            ).scalar_one_or_none()
            if row is None:
                return CodeCheck.NONE
            if hmac.compare_digest(row.digest, code_digest(code.strip(), number, source)):
                row.used = True
                return CodeCheck.OK
            row.attempts += 1
            return CodeCheck.WRONG

    def prune_codes(self) -> int:
        """Deletes codes that expired (they open nothing any more)."""
        with self._session() as session, session.begin():
            result = session.execute(
                delete(OneTimeCode)
                .where(OneTimeCode.expires_at <= self._clock())
                .execution_options(synchronize_session=False)
            )
        deleted: int = result.rowcount
        return deleted

    def prune_verification_failures(self) -> int:
        """Deletes failures older than VERIFICATION_WINDOW (they no longer count)."""
        cutoff = self._clock() - VERIFICATION_WINDOW
        with self._session() as session, session.begin():
            result = session.execute(
                delete(VerificationFailure)
                .where(VerificationFailure.at <= cutoff)
                .execution_options(synchronize_session=False)
            )
        deleted: int = result.rowcount
        return deleted

    def prune_lookup_attempts(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Deletes lookup attempts older than `older_than` (senders who never came back).

        Not part of CommerceBackend: a maintenance task, run from the seed or a cron job.
        """
        cutoff = self._clock() - older_than
        with self._session() as session, session.begin():
            result = session.execute(
                delete(LookupAttempt)
                .where(LookupAttempt.at < cutoff)
                .execution_options(synchronize_session=False)
            )
        deleted: int = result.rowcount
        return deleted
