"""SqlCommerceBackend on the demo store, on SQLite and PostgreSQL: every bot operation, its
refusals, and the races that matter (order numbers, the last unit in stock)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from actions.commerce import (
    LOOKUP_LIMIT_PER_MINUTE,
    ORDER_FAILURE_LIMIT,
    RETURN_WINDOW,
    SOURCE_FAILURE_LIMIT,
    VERIFICATION_WINDOW,
    Address,
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
    OrderLine,
    OrderNotFound,
    OrderStatus,
    OutOfStock,
    PaymentMethod,
    ProductNotFound,
    ReturnAlreadyRequested,
    ReturnWindowClosed,
    SqlCommerceBackend,
    contact_matches,
    shipping_cents,
)
from actions.commerce.codes import CODE_ATTEMPTS, CODE_TTL, CodeCheck
from actions.commerce.database import make_engine, migrate
from actions.commerce.models import Counter, LookupAttempt, OneTimeCode, Order, Variant
from actions.commerce.seed import seed
from tests.unit.commerce import BACKENDS, NOW, database

INJECTIONS = ["10001' OR '1'='1", "10001; DROP TABLE orders;--", "<script>alert(1)</script>"]


class Clock:
    """A settable clock for the backend (the tests decide what "now" is)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database per backend kind, shared by this module's tests (each reseeds)."""
    with database(request.param, tmp_path_factory.mktemp("commerce")) as url:
        migrate(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def backend(engine: Engine, clock: Clock) -> SqlCommerceBackend:
    """The backend on freshly seeded demo data (seeded at NOW; the clock starts at NOW)."""
    seed(engine, now=NOW)
    return SqlCommerceBackend(engine, clock=clock)


def new_order(*lines: tuple[str, int], **changes: Any) -> NewOrder:
    order = NewOrder(
        customer_name="Paola Ruiz",
        phone="55 4321 8765",
        email=" Paola.Ruiz@Example.com ",
        address=Address("Calle Colima 300, Roma Norte", "Ciudad de México", "06700"),
        delivery_option=DeliveryOption.STANDARD,
        payment_method=PaymentMethod.CARD,
        lines=tuple(OrderLine(sku, quantity) for sku, quantity in lines),
    )
    return replace(order, **changes)


def stock(backend: SqlCommerceBackend, sku: str) -> int:
    return backend.check_stock(sku, 1).available


def set_stock(engine: Engine, sku: str, value: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(Variant.__table__).where(Variant.sku == sku).values(stock=value))


def order_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Order)).scalar_one()


# ----------------------------------------------------------------------------- reading orders


def test_implements_the_interface(backend: SqlCommerceBackend) -> None:
    assert isinstance(backend, CommerceBackend)


def test_get_order_returns_the_seeded_order_with_items(backend: SqlCommerceBackend) -> None:
    order = backend.get_order("10001")
    assert order.number == "10001"
    assert order.status is OrderStatus.SHIPPED
    assert order.customer_name == "Ana Martínez"
    assert order.carrier == "Estafeta"
    assert order.tracking_number == "EST123456789MX"
    assert [(i.product_name, i.size, i.colour, i.quantity) for i in order.items] == [
        ("Camiseta básica", "M", "negro", 2)
    ]
    assert order.subtotal_cents == 2 * 24_900
    assert order.total_cents == order.subtotal_cents + order.shipping_cents
    assert order.created_at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        order.status = OrderStatus.CANCELLED  # type: ignore[misc]


@pytest.mark.parametrize("spelling", ["10001", " 10001 ", "#10001", "# 10001", "10001.", 10001])
def test_get_order_accepts_how_customers_write_numbers(
    backend: SqlCommerceBackend, spelling: Any
) -> None:
    assert backend.get_order(spelling).number == "10001"


@pytest.mark.parametrize("number", ["99999", "1000100", "", "abc", "0", "-10001", *INJECTIONS])
def test_get_order_not_found(backend: SqlCommerceBackend, number: str) -> None:
    with pytest.raises(OrderNotFound) as raised:
        backend.get_order(number)
    assert isinstance(raised.value, NotFound)
    assert isinstance(raised.value, LookupError)
    assert isinstance(raised.value, CommerceError)


def test_injection_attempts_change_nothing(backend: SqlCommerceBackend, engine: Engine) -> None:
    before = order_count(engine)
    for text in INJECTIONS:
        with pytest.raises(OrderNotFound):
            backend.get_order(text)
        assert backend.orders_for_contact(phone=text, email=text) == []
        assert backend.find_products(text) == []
    assert order_count(engine) == before


@pytest.mark.parametrize(
    "phone",
    ["+5215512345678", "5215512345678", "+525512345678", "525512345678", "55 1234 5678",
     "+52 1 55 1234 5678", "(55) 1234-5678"],
)  # fmt: skip
def test_orders_for_contact_by_phone_in_any_spelling(
    backend: SqlCommerceBackend, phone: str
) -> None:
    orders = backend.orders_for_contact(phone=phone)
    numbers = [order.number for order in orders]
    assert {"10001", "10004", "10005"} <= set(numbers)
    assert all(order.customer_name == "Ana Martínez" for order in orders)
    created = [order.created_at for order in orders]
    assert created == sorted(created, reverse=True)  # newest first: the one to offer first
    assert numbers[0] == "10005"


@pytest.mark.parametrize(
    ("phone", "number"),
    [("14155550123", "10002"), ("+1 415 555 0123", "10002"), ("5491155551234", "10003"),
     ("+54 9 11 5555-1234", "10003")],
)  # fmt: skip
def test_orders_for_contact_other_countries(
    backend: SqlCommerceBackend, phone: str, number: str
) -> None:
    assert number in [order.number for order in backend.orders_for_contact(phone=phone)]


@pytest.mark.parametrize("email", ["ana@example.com", "ANA@Example.COM", "  ana@example.com\n"])
def test_orders_for_contact_by_email_ignores_case_and_spaces(
    backend: SqlCommerceBackend, email: str
) -> None:
    numbers = {order.number for order in backend.orders_for_contact(email=email)}
    assert {"10001", "10004", "10005"} <= numbers
    assert numbers == {order.number for order in backend.orders_for_contact(phone="5512345678")}


def test_orders_for_contact_phone_or_email_and_limit(backend: SqlCommerceBackend) -> None:
    both = backend.orders_for_contact(phone="+14155550123", email="lucia@example.com")
    assert {"10002", "10003"} <= {order.number for order in both}
    assert len(backend.orders_for_contact(phone="+525512345678", limit=1)) == 1
    assert backend.orders_for_contact(phone="+525512345678", limit=0) == []


@pytest.mark.parametrize(
    "contact",
    [{}, {"phone": "+525599999999"}, {"email": "nobody@example.com"}, {"phone": "12"},
     {"email": "ana@"}, {"phone": None, "email": None}],
)  # fmt: skip
def test_orders_for_contact_without_a_match(
    backend: SqlCommerceBackend, contact: dict[str, Any]
) -> None:
    assert backend.orders_for_contact(**contact) == []


def test_owner_verification_on_a_real_order(backend: SqlCommerceBackend) -> None:
    order = backend.get_order("10001")
    assert contact_matches(order, phone="5215512345678")  # the WhatsApp sender id
    assert contact_matches(order, email="ANA@example.com", last4="5678")
    assert not contact_matches(order, phone="14155550123")
    assert not contact_matches(backend.get_order("10002"), phone="5215512345678")


# ----------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zapatilla urbana", "Zapatillas urbanas"),
        ("sapatillas urbanas", "Zapatillas urbanas"),
        ("ZAPATILLAS URBANAS", "Zapatillas urbanas"),
        ("chaqueta impermeable", "Chaqueta impermeable"),
        ("chaqueta inpermeable", "Chaqueta impermeable"),
        ("camiseta basica", "Camiseta básica"),
        ("camisetas básicas", "Camiseta básica"),
        ("pantalon chino", "Pantalón chino"),
        ("sudadera", "Sudadera con capucha"),
        ("hoodie", "Sudadera con capucha"),
        ("sneakers", "Zapatillas urbanas"),
        ("tenis running", "Zapatillas running"),
        ("mochial", "Mochila urbana"),
        ("lentes de sol", "Lentes de sol"),
        ("calcetines", "Calcetines (pack de 3)"),
        ("una chaqueta impermeable por favor", "Chaqueta impermeable"),
    ],
)
def test_find_products_tolerates_accents_case_plurals_and_typos(
    backend: SqlCommerceBackend, query: str, expected: str
) -> None:
    matches = backend.find_products(query)
    assert matches, query
    assert matches[0].product.name == expected
    scores = [match.score for match in matches]
    assert scores == sorted(scores, reverse=True)


def test_find_products_offers_candidates_for_ambiguous_queries(
    backend: SqlCommerceBackend,
) -> None:
    names = [match.product.name for match in backend.find_products("zapatillas")]
    assert names[:2] == ["Zapatillas urbanas", "Zapatillas running"]
    jeans = backend.find_products("jeans", limit=2)
    assert {match.product.name for match in jeans} == {"Jeans slim", "Jeans rectos"}
    assert len(backend.find_products("camiseta", limit=1)) == 1


@pytest.mark.parametrize("query", ["xyzzy qwerty", "asdfgh", "", "   ", "de la", "?!", "a" * 5000])
def test_find_products_nonsense_finds_nothing(backend: SqlCommerceBackend, query: str) -> None:
    assert backend.find_products(query) == []


def test_get_product_by_id_or_sku(backend: SqlCommerceBackend) -> None:
    sneakers = backend.get_product("zapatillas-urbanas")
    assert sneakers.name == "Zapatillas urbanas"
    assert sneakers.sizes == tuple(str(size) for size in range(38, 45))
    assert set(sneakers.colours) == {"blanco", "negro"}
    assert sneakers.in_stock
    variant = sneakers.variant("42", "White")
    assert variant is not None
    assert variant.colour == "blanco"
    assert backend.get_product(variant.sku).id == sneakers.id
    assert backend.get_product(variant.sku.lower()).id == sneakers.id
    jacket = backend.get_product("chaqueta-impermeable")
    assert not jacket.in_stock
    assert all(v.stock == 0 for v in jacket.variants)


@pytest.mark.parametrize("key", ["no-such-product", "XXX-1-NEG", "", "a" * 500, *INJECTIONS])
def test_get_product_not_found(backend: SqlCommerceBackend, key: str) -> None:
    with pytest.raises(ProductNotFound):
        backend.get_product(key)


def test_check_stock(backend: SqlCommerceBackend, engine: Engine) -> None:
    set_stock(engine, "ZURB-42-NEG", 3)
    assert backend.check_stock("ZURB-42-NEG", 3).ok
    check = backend.check_stock("zurb-42-neg", 4)
    assert (check.sku, check.requested, check.available, check.ok) == ("ZURB-42-NEG", 4, 3, False)
    assert not backend.check_stock("CHIM-M-NEG", 1).ok
    with pytest.raises(ProductNotFound):
        backend.check_stock("NOPE-1-NEG", 1)


@pytest.mark.parametrize("quantity", [0, -1, 11, 10**9, True, 1.5, "2", None])
def test_check_stock_rejects_bad_quantities(backend: SqlCommerceBackend, quantity: Any) -> None:
    with pytest.raises(InvalidQuantity):
        backend.check_stock("ZURB-42-NEG", quantity)


# ----------------------------------------------------------------------------- creating orders


def test_create_order_allocates_a_number_and_takes_stock(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    before = {sku: stock(backend, sku) for sku in ("ZURB-42-NEG", "CBAS-M-NEG")}
    order = backend.create_order(new_order(("ZURB-42-NEG", 1), ("CBAS-M-NEG", 2)))
    assert order.number == "10061"  # the seed's last order is 10060
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.phone == "+525543218765"
    assert order.email == "paola.ruiz@example.com"
    assert order.created_at == NOW
    assert order.subtotal_cents == 129_900 + 2 * 24_900
    assert order.shipping_cents == 0  # free from $999
    assert order.total_cents == order.subtotal_cents
    assert stock(backend, "ZURB-42-NEG") == before["ZURB-42-NEG"] - 1
    assert stock(backend, "CBAS-M-NEG") == before["CBAS-M-NEG"] - 2
    assert backend.get_order("10061") == order
    assert backend.create_order(new_order(("CBAS-M-NEG", 1))).number == "10062"


def test_create_order_charges_shipping_by_option(backend: SqlCommerceBackend) -> None:
    standard = backend.create_order(new_order(("CBAS-M-NEG", 1)))
    assert (standard.subtotal_cents, standard.shipping_cents) == (24_900, 9_900)
    express = backend.create_order(
        new_order(("CBAS-M-NEG", 1), delivery_option=DeliveryOption.EXPRESS)
    )
    assert express.shipping_cents == 19_900
    pickup = backend.create_order(new_order(("CBAS-M-NEG", 1), delivery_option="pickup"))
    assert pickup.shipping_cents == 0
    assert pickup.delivery_option is DeliveryOption.PICKUP


def test_create_order_merges_repeated_skus(backend: SqlCommerceBackend) -> None:
    before = stock(backend, "CBAS-M-NEG")
    order = backend.create_order(new_order(("CBAS-M-NEG", 1), ("cbas-m-neg", 2)))
    assert [(item.sku, item.quantity) for item in order.items] == [("CBAS-M-NEG", 3)]
    assert stock(backend, "CBAS-M-NEG") == before - 3


def test_create_order_out_of_stock_changes_nothing(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    set_stock(engine, "ZURB-40-BLA", 2)
    before, orders = stock(backend, "CBAS-M-NEG"), order_count(engine)
    with pytest.raises(OutOfStock) as raised:
        # The first line could be served; the second cannot: neither is.
        backend.create_order(new_order(("CBAS-M-NEG", 1), ("ZURB-40-BLA", 3)))
    assert (raised.value.sku, raised.value.requested, raised.value.available) == (
        "ZURB-40-BLA",
        3,
        2,
    )
    with pytest.raises(OutOfStock):
        backend.create_order(new_order(("CHIM-M-NEG", 1)))
    assert stock(backend, "CBAS-M-NEG") == before
    assert stock(backend, "ZURB-40-BLA") == 2
    assert order_count(engine) == orders
    # The failed orders gave their numbers back.
    assert backend.create_order(new_order(("ZURB-40-BLA", 2))).number == "10061"
    assert stock(backend, "ZURB-40-BLA") == 0


@pytest.mark.parametrize("quantity", [0, -1, -100, 11, 10**9, 2**63, True, 2.0, "1"])
def test_create_order_rejects_bad_quantities(
    backend: SqlCommerceBackend, engine: Engine, quantity: Any
) -> None:
    orders = order_count(engine)
    with pytest.raises(InvalidQuantity):
        backend.create_order(new_order(("CBAS-M-NEG", quantity)))
    assert order_count(engine) == orders


def test_create_order_rejects_empty_and_oversized_orders(backend: SqlCommerceBackend) -> None:
    with pytest.raises(InvalidQuantity):
        backend.create_order(new_order())
    with pytest.raises(InvalidQuantity):
        backend.create_order(new_order(*[("CBAS-M-NEG", 1)] * 21))
    with pytest.raises(InvalidQuantity):  # 6 + 6 of one SKU is over the per-line limit
        backend.create_order(new_order(("CBAS-M-NEG", 6), ("CBAS-M-NEG", 6)))
    with pytest.raises(ProductNotFound):
        backend.create_order(new_order(("NOPE-M-NEG", 1)))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"phone": "12345"}, InvalidContact),
        ({"phone": "10001' OR '1'='1"}, InvalidContact),
        ({"email": "paola@"}, InvalidContact),
        ({"email": "<script>@example.com"}, InvalidContact),
        ({"customer_name": "  "}, InvalidRequest),
        ({"customer_name": "<script>alert(1)</script>"}, InvalidRequest),
        ({"address": Address("", "Ciudad de México", "06700")}, InvalidAddress),
        ({"address": Address("Calle 1", "CDMX", "6700")}, InvalidAddress),
        ({"payment_method": "bitcoin"}, InvalidRequest),
        ({"delivery_option": "drone"}, InvalidRequest),
    ],
)
def test_create_order_validates_the_form(
    backend: SqlCommerceBackend, engine: Engine, changes: dict[str, Any], error: type
) -> None:
    orders = order_count(engine)
    with pytest.raises(error):
        backend.create_order(new_order(("CBAS-M-NEG", 1), **changes))
    assert order_count(engine) == orders


def test_create_order_with_only_an_email(backend: SqlCommerceBackend) -> None:
    for phone in (None, "", "   "):  # blank means "not given", as an empty form field
        order = backend.create_order(new_order(("CBAS-M-NEG", 1), phone=phone))
        assert (order.phone, order.email) == (None, "paola.ruiz@example.com")
        assert backend.get_order(order.number) == order
    found = backend.orders_for_contact(email="PAOLA.RUIZ@example.com")
    assert [o.number for o in found] == ["10063", "10062", "10061"]
    assert backend.orders_for_contact(phone="55 4321 8765") == []
    assert contact_matches(order, email="paola.ruiz@example.com")
    assert not contact_matches(order, phone="55 4321 8765")
    assert not contact_matches(order, last4="8765")


def test_create_order_with_only_a_phone(backend: SqlCommerceBackend) -> None:
    order = backend.create_order(new_order(("CBAS-M-NEG", 1), email=None))
    assert (order.phone, order.email) == ("+525543218765", None)
    assert backend.get_order(order.number) == order
    assert [o.number for o in backend.orders_for_contact(phone="5543218765")] == [order.number]
    assert backend.orders_for_contact(email="paola.ruiz@example.com") == []
    assert contact_matches(order, phone="+52 1 55 4321 8765", last4="8765")
    assert not contact_matches(order, email="paola.ruiz@example.com")


@pytest.mark.parametrize(
    ("phone", "email", "field"),
    [
        (None, None, "contact"),
        ("", " ", "contact"),
        ("12345", "paola@example.com", "phone"),  # a bad one is refused, not dropped
        ("12345", None, "phone"),
        ("55 4321 8765", "paola@", "email"),
        (None, "paola@", "email"),
        (5543218765, None, "phone"),
    ],
)
def test_create_order_needs_one_valid_contact(
    backend: SqlCommerceBackend, engine: Engine, phone: Any, email: Any, field: str
) -> None:
    orders, units = order_count(engine), stock(backend, "CBAS-M-NEG")
    with pytest.raises(InvalidContact) as raised:
        backend.create_order(new_order(("CBAS-M-NEG", 1), phone=phone, email=email))
    assert raised.value.field == field
    assert (order_count(engine), stock(backend, "CBAS-M-NEG")) == (orders, units)


def run_concurrently(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Runs action(0..count-1) in threads released at the same moment; returns results or
    the exceptions they raised, in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_orders_get_distinct_numbers(backend: SqlCommerceBackend) -> None:
    results = run_concurrently(6, lambda _: backend.create_order(new_order(("CBAS-M-NEG", 1))))
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors
    numbers = sorted(int(result.number) for result in results)
    assert numbers == list(range(10061, 10067))


def test_concurrent_buyers_of_the_last_units(backend: SqlCommerceBackend, engine: Engine) -> None:
    set_stock(engine, "MOCH-U-GRI", 2)
    results = run_concurrently(5, lambda _: backend.create_order(new_order(("MOCH-U-GRI", 1))))
    placed = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, OutOfStock)]
    assert len(placed) == 2
    assert len(refused) == 3
    assert stock(backend, "MOCH-U-GRI") == 0
    assert len({order.number for order in placed}) == 2


# ----------------------------------------------------------------------------- changing orders


@pytest.mark.parametrize(
    ("number", "previous", "refund_due"),
    [("10005", OrderStatus.PENDING_PAYMENT, False), ("10003", OrderStatus.PAID, True),
     ("10006", OrderStatus.PREPARING, True)],
)  # fmt: skip
def test_cancel_allowed_before_shipping_and_restocks(
    backend: SqlCommerceBackend, number: str, previous: OrderStatus, refund_due: bool
) -> None:
    order = backend.get_order(number)
    before = {item.sku: stock(backend, item.sku) for item in order.items}
    result = backend.cancel_order(number)
    assert result.previous_status is previous
    assert result.refund_due is refund_due
    assert result.order.status is OrderStatus.CANCELLED
    assert backend.get_order(number).status is OrderStatus.CANCELLED
    for item in order.items:
        assert stock(backend, item.sku) == before[item.sku] + item.quantity
    with pytest.raises(InvalidOrderState):  # and only once
        backend.cancel_order(number)
    for item in order.items:
        assert stock(backend, item.sku) == before[item.sku] + item.quantity


def test_cancel_a_new_order_gives_the_stock_back(backend: SqlCommerceBackend) -> None:
    before = stock(backend, "ZURB-41-BLA")
    order = backend.create_order(new_order(("ZURB-41-BLA", 2)))
    assert stock(backend, "ZURB-41-BLA") == before - 2
    assert backend.cancel_order(order.number).order.status is OrderStatus.CANCELLED
    assert stock(backend, "ZURB-41-BLA") == before


@pytest.mark.parametrize(
    ("number", "status"),
    [("10001", OrderStatus.SHIPPED), ("10002", OrderStatus.DELIVERED),
     ("10007", OrderStatus.CANCELLED), ("10008", OrderStatus.RETURNED)],
)  # fmt: skip
def test_cancel_refused_once_shipped_or_closed(
    backend: SqlCommerceBackend, number: str, status: OrderStatus
) -> None:
    with pytest.raises(InvalidOrderState) as raised:
        backend.cancel_order(number)
    assert raised.value.status is status
    assert raised.value.action == "cancel"
    assert OrderStatus.PAID in raised.value.allowed
    assert backend.get_order(number).status is status


@pytest.mark.parametrize("number", ["99999", *INJECTIONS])
def test_cancel_unknown_order(backend: SqlCommerceBackend, number: str) -> None:
    with pytest.raises(OrderNotFound):
        backend.cancel_order(number)


def test_cancel_races_the_warehouse(backend: SqlCommerceBackend, engine: Engine) -> None:
    """The warehouse ships between our read and our write: the cancel must be refused."""
    real_session = backend._session
    calls = 0

    def session_that_ships_first() -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # after cancel_order read "paid", before its UPDATE
            with engine.begin() as connection:
                connection.execute(
                    update(Order.__table__).where(Order.number == "10003").values(status="shipped")
                )
        return real_session()

    backend._session = session_that_ships_first  # type: ignore[method-assign]
    with pytest.raises(InvalidOrderState) as raised:
        backend.cancel_order("10003")
    assert raised.value.status is OrderStatus.SHIPPED


def test_change_address_before_shipping(backend: SqlCommerceBackend) -> None:
    order = backend.change_address(
        "10003", Address("  Av. Patria   1201 ", "Zapopan", "45110", "mx")
    )
    assert order.address == Address("Av. Patria 1201", "Zapopan", "45110", "MX")
    assert backend.get_order("10003").address == order.address


@pytest.mark.parametrize("number", ["10001", "10002", "10007"])
def test_change_address_refused_once_shipped(backend: SqlCommerceBackend, number: str) -> None:
    before = backend.get_order(number).address
    with pytest.raises(InvalidOrderState) as raised:
        backend.change_address(number, Address("Otra calle 1", "Puebla", "72000"))
    assert raised.value.action == "change_address"
    assert backend.get_order(number).address == before


@pytest.mark.parametrize(
    "address",
    [Address("", "Puebla", "72000"), Address("Calle 1", "", "72000"),
     Address("Calle 1", "Puebla", "7200"), Address("Calle 1", "Puebla", "ABCDE"),
     Address("x" * 201, "Puebla", "72000"), Address("<script>", "Puebla", "72000"),
     Address("Calle 1", "Puebla", "72000", "Mexico")],
)  # fmt: skip
def test_change_address_validates(backend: SqlCommerceBackend, address: Address) -> None:
    with pytest.raises(InvalidAddress):
        backend.change_address("10003", address)


def test_change_address_unknown_order(backend: SqlCommerceBackend) -> None:
    with pytest.raises(OrderNotFound):
        backend.change_address("99999", Address("Calle 1", "Puebla", "72000"))


# ----------------------------------------------------------------------------- changing items


def price(engine: Engine, sku: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(Variant.__table__.c.price_cents).where(Variant.sku == sku)
        ).scalar_one()


def set_price(engine: Engine, sku: str, cents: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Variant.__table__).where(Variant.sku == sku).values(price_cents=cents)
        )


@pytest.mark.parametrize(
    ("number", "sku", "new_sku", "size", "colour"),
    [("10003", "VCAM-M-AZU", "VCAM-S-BLA", "S", "blanco"),
     ("10005", "SUDC-M-GRI", "SUDC-L-NEG", "L", "negro"),
     ("10006", "ZRUN-42-NEG", "ZRUN-43-AZU", "43", "azul")],
)  # fmt: skip
def test_change_item_swaps_the_variant_and_moves_the_stock(
    backend: SqlCommerceBackend,
    engine: Engine,
    number: str,
    sku: str,
    new_sku: str,
    size: str,
    colour: str,
) -> None:
    set_stock(engine, new_sku, 5)
    before = backend.get_order(number)
    assert before.can_change_items
    line = next(item for item in before.items if item.sku == sku)
    old_units = stock(backend, sku)
    changed = backend.change_item(number, f" {sku.lower()} ", new_sku.lower())
    assert stock(backend, sku) == old_units + line.quantity
    assert stock(backend, new_sku) == 5 - line.quantity
    new_line = next(item for item in changed.items if item.sku == new_sku)
    assert (new_line.size, new_line.colour, new_line.quantity) == (size, colour, line.quantity)
    assert new_line.product_name == line.product_name
    assert new_line.unit_price_cents == price(engine, new_sku)
    assert sku not in {item.sku for item in changed.items}
    assert [item for item in changed.items if item.sku != new_sku] == [
        item for item in before.items if item.sku != sku
    ]
    assert changed.subtotal_cents == sum(item.total_cents for item in changed.items)
    assert changed.shipping_cents == shipping_cents(before.delivery_option, changed.subtotal_cents)
    assert changed.total_cents == changed.subtotal_cents + changed.shipping_cents
    assert changed.status is before.status
    assert replace(changed, items=before.items) == replace(
        before,
        subtotal_cents=changed.subtotal_cents,
        shipping_cents=changed.shipping_cents,
        total_cents=changed.total_cents,
    )
    assert backend.get_order(number) == changed


@pytest.mark.parametrize(
    ("option", "before_shipping", "after_shipping"),
    [(DeliveryOption.STANDARD, 0, 9_900), (DeliveryOption.EXPRESS, 19_900, 19_900),
     (DeliveryOption.PICKUP, 0, 0)],
)  # fmt: skip
def test_change_item_reprices_the_line_and_recomputes_shipping(
    backend: SqlCommerceBackend,
    engine: Engine,
    option: DeliveryOption,
    before_shipping: int,
    after_shipping: int,
) -> None:
    set_stock(engine, "VCAM-M-AZU", 3)
    set_stock(engine, "VCAM-L-AZU", 3)
    set_price(engine, "VCAM-L-AZU", 89_900)  # under the free-shipping threshold
    order = backend.create_order(new_order(("VCAM-M-AZU", 1), delivery_option=option))
    assert (order.subtotal_cents, order.shipping_cents) == (109_900, before_shipping)
    changed = backend.change_item(order.number, "VCAM-M-AZU", "VCAM-L-AZU")
    assert [(item.sku, item.size, item.unit_price_cents) for item in changed.items] == [
        ("VCAM-L-AZU", "L", 89_900)
    ]
    assert changed.subtotal_cents == 89_900
    assert changed.shipping_cents == after_shipping
    assert changed.total_cents == 89_900 + after_shipping
    assert changed.delivery_option is option
    assert backend.get_order(order.number) == changed
    assert (stock(backend, "VCAM-M-AZU"), stock(backend, "VCAM-L-AZU")) == (3, 2)


@pytest.mark.parametrize(
    ("number", "sku", "new_sku", "error"),
    [("99999", "VCAM-M-AZU", "VCAM-S-BLA", OrderNotFound),
     ("abc", "VCAM-M-AZU", "VCAM-S-BLA", OrderNotFound),
     (INJECTIONS[0], "VCAM-M-AZU", "VCAM-S-BLA", OrderNotFound),
     ("10003", "CBAS-M-NEG", "CBAS-L-NEG", ProductNotFound),  # not a line of the order
     ("10003", "", "VCAM-S-BLA", ProductNotFound),
     ("10003", "VCAM-M-AZU", "VCAM-XXL-AZU", ProductNotFound),  # no such variant
     ("10003", "VCAM-M-AZU", "", ProductNotFound),
     ("10003", "VCAM-M-AZU", INJECTIONS[1], ProductNotFound),
     ("10003", "VCAM-M-AZU", "TOTE-U-NEG", InvalidRequest),  # another product
     ("10003", "VCAM-M-AZU", "CBAS-M-NEG", InvalidRequest),
     ("10003", "VCAM-M-AZU", "VCAM-M-AZU", InvalidRequest),  # the same variant
     ("10003", "VCAM-M-AZU", " vcam-m-azu ", InvalidRequest)],
)  # fmt: skip
def test_change_item_refusals_change_nothing(
    backend: SqlCommerceBackend,
    engine: Engine,
    number: str,
    sku: str,
    new_sku: str,
    error: type[Exception],
) -> None:
    skus = ["VCAM-M-AZU", "VCAM-S-BLA", "TOTE-U-BEI", "TOTE-U-NEG", "CBAS-M-NEG", "CBAS-L-NEG"]
    for each in skus:
        set_stock(engine, each, 5)
    before = backend.get_order("10003")
    with pytest.raises(error) as raised:
        backend.change_item(number, sku, new_sku)
    assert type(raised.value) is error
    assert backend.get_order("10003") == before
    assert all(stock(backend, each) == 5 for each in skus)


def test_change_item_refuses_a_variant_already_in_the_order(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    set_stock(engine, "CBAS-M-NEG", 5)
    set_stock(engine, "CBAS-L-NEG", 5)
    order = backend.create_order(new_order(("CBAS-M-NEG", 1), ("CBAS-L-NEG", 2)))
    with pytest.raises(InvalidRequest):
        backend.change_item(order.number, "CBAS-M-NEG", "CBAS-L-NEG")
    assert backend.get_order(order.number) == order
    assert (stock(backend, "CBAS-M-NEG"), stock(backend, "CBAS-L-NEG")) == (4, 3)


@pytest.mark.parametrize("available", [0, 1])
def test_change_item_out_of_stock_changes_nothing(
    backend: SqlCommerceBackend, engine: Engine, available: int
) -> None:
    set_stock(engine, "CBAS-M-NEG", 5)
    order = backend.create_order(new_order(("CBAS-M-NEG", 2)))
    set_stock(engine, "CBAS-XL-NEG", available)
    with pytest.raises(OutOfStock) as raised:
        backend.change_item(order.number, "CBAS-M-NEG", "CBAS-XL-NEG")
    assert (raised.value.sku, raised.value.requested) == ("CBAS-XL-NEG", 2)
    assert raised.value.available == available
    assert backend.get_order(order.number) == order
    assert (stock(backend, "CBAS-M-NEG"), stock(backend, "CBAS-XL-NEG")) == (3, available)


@pytest.mark.parametrize(
    ("number", "status", "sku", "new_sku"),
    [("10001", OrderStatus.SHIPPED, "CBAS-M-NEG", "CBAS-L-NEG"),
     ("10002", OrderStatus.DELIVERED, "ZURB-42-BLA", "ZURB-43-BLA"),
     ("10007", OrderStatus.CANCELLED, "FMID-S-NEG", "FMID-M-NEG"),
     ("10008", OrderStatus.RETURNED, "POLO-L-MAR", "POLO-M-MAR")],
)  # fmt: skip
def test_change_item_refused_once_shipped_or_closed(
    backend: SqlCommerceBackend,
    engine: Engine,
    number: str,
    status: OrderStatus,
    sku: str,
    new_sku: str,
) -> None:
    set_stock(engine, new_sku, 5)
    before = backend.get_order(number)
    assert not before.can_change_items
    old_units = stock(backend, sku)
    with pytest.raises(InvalidOrderState) as raised:
        backend.change_item(number, sku, new_sku)
    assert raised.value.status is status
    assert raised.value.action == "change_item"
    assert OrderStatus.PAID in raised.value.allowed
    assert backend.get_order(number) == before
    assert (stock(backend, sku), stock(backend, new_sku)) == (old_units, 5)


def test_concurrent_swaps_to_the_last_unit(backend: SqlCommerceBackend, engine: Engine) -> None:
    set_stock(engine, "VCAM-M-AZU", 4)
    set_stock(engine, "VCAM-L-BLA", 1)
    numbers = [backend.create_order(new_order(("VCAM-M-AZU", 1))).number for _ in range(4)]
    results = run_concurrently(
        4, lambda i: backend.change_item(numbers[i], "VCAM-M-AZU", "VCAM-L-BLA")
    )
    changed = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, OutOfStock)]
    assert (len(changed), len(refused)) == (1, 3)
    assert all(error.available == 0 for error in refused)
    assert (stock(backend, "VCAM-M-AZU"), stock(backend, "VCAM-L-BLA")) == (1, 0)
    skus = sorted(backend.get_order(number).items[0].sku for number in numbers)
    assert skus == ["VCAM-L-BLA", "VCAM-M-AZU", "VCAM-M-AZU", "VCAM-M-AZU"]


def test_concurrent_swaps_in_opposite_directions(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    """Each swap takes one variant and gives back the other: neither may deadlock."""
    set_stock(engine, "VCAM-M-AZU", 5)
    set_stock(engine, "VCAM-S-BLA", 5)
    first = backend.create_order(new_order(("VCAM-M-AZU", 1))).number
    second = backend.create_order(new_order(("VCAM-S-BLA", 1))).number
    swaps = [(first, "VCAM-M-AZU", "VCAM-S-BLA"), (second, "VCAM-S-BLA", "VCAM-M-AZU")]
    results = run_concurrently(2, lambda i: backend.change_item(*swaps[i]))
    assert not [result for result in results if isinstance(result, Exception)]
    assert backend.get_order(first).items[0].sku == "VCAM-S-BLA"
    assert backend.get_order(second).items[0].sku == "VCAM-M-AZU"
    assert (stock(backend, "VCAM-M-AZU"), stock(backend, "VCAM-S-BLA")) == (4, 4)


def test_change_item_racing_a_cancel_keeps_the_stock_right(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    """Whichever runs first, the cancel puts back exactly what the order holds then."""
    set_stock(engine, "VCAM-S-BLA", 5)
    units = {sku: stock(backend, sku) for sku in ("VCAM-M-AZU", "VCAM-S-BLA", "TOTE-U-BEI")}
    results = run_concurrently(
        2,
        lambda i: (
            backend.change_item("10003", "VCAM-M-AZU", "VCAM-S-BLA")
            if i == 0
            else backend.cancel_order("10003")
        ),
    )
    assert not isinstance(results[1], Exception)
    # The change either went first, or was refused because the order was cancelled.
    assert not isinstance(results[0], Exception) or isinstance(results[0], InvalidOrderState)
    assert backend.get_order("10003").status is OrderStatus.CANCELLED
    # Net effect either way: the order's original items are back, the new variant untouched.
    assert {sku: stock(backend, sku) for sku in units} == {
        "VCAM-M-AZU": units["VCAM-M-AZU"] + 1,
        "VCAM-S-BLA": 5,
        "TOTE-U-BEI": units["TOTE-U-BEI"] + 1,
    }


# ----------------------------------------------------------------------------- returns


def test_return_within_the_window(backend: SqlCommerceBackend) -> None:
    created = backend.create_return("10002", "  No me quedó   la talla ")
    assert created.number == "R-00008"  # the seed has 7 returns
    assert created.order_number == "10002"
    assert created.reason == "No me quedó la talla"
    assert created.status == "requested"
    assert created.created_at == NOW
    with pytest.raises(ReturnAlreadyRequested) as raised:
        backend.create_return("10002", "otra vez")
    assert raised.value.existing == created
    assert isinstance(raised.value, InvalidOrderState)
    assert backend.create_return("10009", "defecto").number == "R-00009"  # delivered 29 days ago


def test_return_outside_the_window_names_the_deadline(backend: SqlCommerceBackend) -> None:
    order = backend.get_order("10004")  # delivered 45 days ago
    assert order.delivered_at is not None
    with pytest.raises(ReturnWindowClosed) as raised:
        backend.create_return("10004", "talla")
    assert raised.value.deadline == order.delivered_at + RETURN_WINDOW
    assert raised.value.deadline == order.return_deadline
    assert raised.value.deadline < NOW


def test_return_window_boundary(backend: SqlCommerceBackend, clock: Clock) -> None:
    delivered = backend.get_order("10002").delivered_at
    assert delivered == NOW - timedelta(days=5)
    clock.now = delivered + RETURN_WINDOW + timedelta(seconds=1)
    with pytest.raises(ReturnWindowClosed):
        backend.create_return("10002", "talla")
    clock.now = delivered + RETURN_WINDOW
    assert backend.create_return("10002", "talla").number == "R-00008"


@pytest.mark.parametrize(
    ("number", "status"),
    [("10001", OrderStatus.SHIPPED), ("10003", OrderStatus.PAID),
     ("10007", OrderStatus.CANCELLED), ("10008", OrderStatus.RETURNED)],
)  # fmt: skip
def test_return_refused_unless_delivered(
    backend: SqlCommerceBackend, number: str, status: OrderStatus
) -> None:
    with pytest.raises(InvalidOrderState) as raised:
        backend.create_return(number, "talla")
    assert raised.value.status is status


def test_return_needs_a_reason_and_an_order(backend: SqlCommerceBackend) -> None:
    with pytest.raises(InvalidRequest):
        backend.create_return("10002", "   ")
    with pytest.raises(OrderNotFound):
        backend.create_return("99999", "talla")
    # Refused requests did not use up return numbers.
    assert backend.create_return("10002", "talla").number == "R-00008"


# ----------------------------------------------------------------------------- throttling


def test_lookup_attempts_are_counted_per_sender_in_a_sliding_minute(
    backend: SqlCommerceBackend, clock: Clock, engine: Engine
) -> None:
    counts = [backend.record_lookup_attempt("whatsapp:5215512345678") for _ in range(20)]
    assert counts == list(range(1, 21))
    assert backend.record_lookup_attempt("telegram:42") == 1  # another sender
    clock.now = NOW + timedelta(seconds=30)
    assert backend.record_lookup_attempt("whatsapp:5215512345678") == 21
    assert LOOKUP_LIMIT_PER_MINUTE < 21  # the bot throttles here
    clock.now = NOW + timedelta(seconds=60)  # the first 20 are exactly a minute old: gone
    assert backend.record_lookup_attempt("whatsapp:5215512345678") == 2
    clock.now = NOW + timedelta(seconds=200)
    assert backend.record_lookup_attempt("whatsapp:5215512345678") == 1
    with engine.connect() as connection:
        senders = connection.execute(select(LookupAttempt.sender)).scalars().all()
    assert "whatsapp:5215512345678" not in senders  # stored as a digest, not the phone


def test_lookup_attempts_are_shared_across_processes(
    backend: SqlCommerceBackend, engine: Engine, clock: Clock
) -> None:
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        other = SqlCommerceBackend(other_engine, clock=clock)  # a second process's backend
        assert backend.record_lookup_attempt("sender-a") == 1
        assert other.record_lookup_attempt("sender-a") == 2
        assert backend.record_lookup_attempt("sender-a") == 3
    finally:
        other_engine.dispose()


def test_prune_lookup_attempts(backend: SqlCommerceBackend, clock: Clock) -> None:
    backend.record_lookup_attempt("gone")
    clock.now = NOW + timedelta(hours=2)
    backend.record_lookup_attempt("recent")
    assert backend.prune_lookup_attempts() == 1
    assert backend.record_lookup_attempt("recent") == 2


def test_counters_are_consistent_after_seeding(engine: Engine, backend: SqlCommerceBackend) -> None:
    with engine.connect() as connection:
        counters = dict(connection.execute(select(Counter.name, Counter.value)).all())
    assert counters == {"order_number": 10060, "return_number": 7}


def test_verification_failures_count_per_order_from_every_source_and_per_source(
    backend: SqlCommerceBackend, clock: Clock
) -> None:
    """A new conversation id per guess does not reset the order's count (the review's attack)."""
    counts = [backend.record_verification_failure("10001", f"source-{i}") for i in range(4)]
    assert [c.order for c in counts] == [1, 2, 3, 4]
    assert [c.source for c in counts] == [1, 1, 1, 1]
    for _ in range(ORDER_FAILURE_LIMIT - 4):
        last = backend.record_verification_failure("10001", "source-x")
    assert last.order == ORDER_FAILURE_LIMIT
    assert last.locked
    assert backend.verification_failures("10001", "anyone-else").locked
    assert not backend.verification_failures("10002", "anyone-else").locked  # other orders


def test_verification_failures_lock_one_source_trying_many_orders(
    backend: SqlCommerceBackend,
) -> None:
    for number in range(SOURCE_FAILURE_LIMIT):
        counts = backend.record_verification_failure(str(20001 + number), "prober")
    assert counts.source == SOURCE_FAILURE_LIMIT
    assert counts.locked
    assert backend.verification_failures("10001", "prober").locked
    assert not backend.verification_failures("10001", "someone-else").locked


def test_verification_failures_for_unknown_orders_count_the_same(
    backend: SqlCommerceBackend,
) -> None:
    assert backend.record_verification_failure("99999", "s").order == 1  # no such order
    assert backend.record_verification_failure("10001", "s").order == 1


def test_verification_failures_expire_after_the_window_and_are_pruned(
    backend: SqlCommerceBackend, clock: Clock
) -> None:
    for _ in range(ORDER_FAILURE_LIMIT):
        backend.record_verification_failure("10003", "s")
    assert backend.verification_failures("10003", "t").locked
    clock.now = NOW + VERIFICATION_WINDOW + timedelta(seconds=1)
    assert backend.verification_failures("10003", "t").order == 0
    assert backend.prune_verification_failures() == ORDER_FAILURE_LIMIT


# --- one-time codes --------------------------------------------------------------------------


def test_a_code_is_issued_once_while_it_holds_and_opens_once(
    backend: SqlCommerceBackend, engine: Engine
) -> None:
    code = backend.issue_code("10003", "code-once")
    assert code is not None
    assert re.fullmatch(r"\d{6}", code)
    assert backend.issue_code("10003", "code-once") is None  # the first one is on its way
    with engine.connect() as connection:
        stored = connection.execute(
            select(OneTimeCode.digest).where(OneTimeCode.source == "code-once")
        ).scalar_one()
    assert code not in stored  # only an HMAC is kept
    assert backend.check_code("10003", "code-once", code) is CodeCheck.OK
    assert backend.check_code("10003", "code-once", code) is CodeCheck.NONE  # used


def test_a_code_belongs_to_its_order_and_source(backend: SqlCommerceBackend) -> None:
    code = backend.issue_code("10003", "code-mine")
    assert code is not None
    assert backend.check_code("10003", "code-someone-else", code) is CodeCheck.NONE
    assert backend.check_code("10004", "code-mine", code) is CodeCheck.NONE
    assert backend.check_code("10003", "code-mine", code) is CodeCheck.OK


def test_wrong_codes_use_up_the_code(backend: SqlCommerceBackend) -> None:
    code = backend.issue_code("10003", "code-guesser")
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert [backend.check_code("10003", "code-guesser", wrong) for _ in range(CODE_ATTEMPTS)] == [
        CodeCheck.WRONG
    ] * CODE_ATTEMPTS
    assert backend.check_code("10003", "code-guesser", code) is CodeCheck.NONE  # too late
    assert backend.issue_code("10003", "code-guesser") is not None  # a new one may be sent


def test_a_code_expires_and_is_pruned(backend: SqlCommerceBackend, clock: Clock) -> None:
    code = backend.issue_code("10003", "code-late")
    assert code is not None
    clock.now = NOW + CODE_TTL + timedelta(seconds=1)
    assert backend.check_code("10003", "code-late", code) is CodeCheck.NONE
    assert backend.issue_code("10003", "code-late") is not None
    clock.now = NOW + 3 * CODE_TTL
    assert backend.prune_codes() >= 2
