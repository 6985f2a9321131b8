"""Migrations, the database URL, and the demo seed, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from actions.commerce import (
    Address,
    DeliveryOption,
    NewOrder,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    SqlCommerceBackend,
)
from actions.commerce.backend import shipping_cents
from actions.commerce.database import (
    REPO_ROOT,
    VERSION_TABLE,
    current_revision,
    database_url,
    downgrade,
    make_engine,
    migrate,
)
from actions.commerce.database import main as database_main
from actions.commerce.models import Counter, Order, OrderItem, Product, Return, Variant, metadata
from actions.commerce.seed import add_synthetic_orders, is_empty, seed
from actions.commerce.seed import main as seed_main
from actions.commerce.verification import normalize_phone
from tests.unit.commerce import BACKENDS, NOW, database, postgres_schema, require_postgres

TABLES = {
    *("products", "variants", "orders", "order_items", "returns", "lookup_attempts", "counters"),
    "verification_failures",
    "one_time_codes",
}
HEAD = "0004"
# The CHECK constraints on orders at 0001; 0002 adds ck_orders_contact.
ORDER_CHECKS_0001 = {
    "ck_orders_status", "ck_orders_delivery_option", "ck_orders_payment_method", "ck_orders_total"
}  # fmt: skip
# The catalogue the bot's training data names (the list).
CATALOGUE = [
    "Camiseta básica", "Camiseta estampada", "Polo piqué", "Camisa de lino", "Camisa oxford",
    "Sudadera con capucha", "Suéter de punto", "Chaqueta impermeable", "Chamarra de mezclilla",
    "Chaleco acolchado", "Jeans slim", "Jeans rectos", "Pantalón chino", "Pantalón jogger",
    "Shorts deportivos", "Falda midi", "Vestido camisero", "Leggings deportivos",
    "Zapatillas urbanas", "Zapatillas running", "Botines de piel", "Sandalias de piel",
    "Mocasines", "Gorra clásica", "Gorro de lana", "Bufanda de lana", "Cinturón de piel",
    "Mochila urbana", "Bolso tote", "Calcetines (pack de 3)", "Pijama de algodón", "Lentes de sol",
]  # fmt: skip


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (never migrated)."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine, now=NOW)
    return engine


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


# ----------------------------------------------------------------------------- migrations


def test_migrations_up_down_up(url: str) -> None:
    assert current_revision(url) is None
    assert tables(url) == set()
    migrate(url)
    assert current_revision(url) == HEAD
    assert tables(url) == TABLES | {VERSION_TABLE}
    migrate(url)  # already at head: nothing to do
    downgrade(url, "base")
    assert current_revision(url) is None
    assert tables(url) == {VERSION_TABLE}  # Alembic keeps its (empty) version table
    migrate(url, "0001")
    assert tables(url) & TABLES == TABLES - {"verification_failures", "one_time_codes"}
    engine = make_engine(url)
    try:
        seed(engine, now=NOW)  # the re-created schema works
        assert count(engine, Order) >= 50
    finally:
        engine.dispose()
    migrate(url)  # 0001 → head with data in it
    assert current_revision(url) == HEAD
    downgrade(url, "base")  # also with data in it
    assert tables(url) == {VERSION_TABLE}


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = [
            diff
            for diff in compare_metadata(context, metadata)
            if not (diff[0] == "remove_table" and diff[1].name == VERSION_TABLE)
        ]
    assert differences == []


def test_schema_has_the_lookup_indexes(engine: Engine) -> None:
    inspector = inspect(engine)
    indexes = {
        table: {tuple(index["column_names"]) for index in inspector.get_indexes(table)}
        for table in ("orders", "lookup_attempts", "order_items", "verification_failures")
    }
    uniques = {
        tuple(constraint["column_names"])
        for constraint in inspector.get_unique_constraints("orders")
    }
    assert ("number",) in uniques
    assert {("phone",), ("email",)} <= indexes["orders"]
    assert ("sender", "at") in indexes["lookup_attempts"]
    assert {("order_number", "at"), ("source", "at")} <= indexes["verification_failures"]
    assert ("order_id",) in indexes["order_items"]
    names = {constraint["name"] for constraint in inspector.get_check_constraints("orders")}
    assert names == ORDER_CHECKS_0001 | {"ck_orders_contact"}


def test_cli_upgrade_current_downgrade(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert database_main(["--url", url, "current"]) == 0
    assert "base" in capsys.readouterr().out
    assert database_main(["--url", url, "upgrade"]) == 0
    assert database_main(["--url", url, "current"]) == 0
    assert capsys.readouterr().out.strip() == HEAD
    assert database_main(["--url", url, "downgrade", "base"]) == 0
    assert tables(url) == {VERSION_TABLE}


# ----------------------------------------------------------------------------- 0002: contact


def new_order(phone: str | None, email: str | None) -> NewOrder:
    return NewOrder(
        customer_name="Paola Ruiz",
        phone=phone,
        email=email,
        address=Address("Calle Colima 300, Roma Norte", "Ciudad de México", "06700"),
        delivery_option=DeliveryOption.STANDARD,
        payment_method=PaymentMethod.CARD,
        lines=(OrderLine("CBAS-M-NEG", 1),),
    )


def orders_table(engine: Engine) -> list[Any]:
    """Every order row, in number order, without the id."""
    with engine.connect() as connection:
        rows = connection.execute(select(Order.__table__).order_by(Order.number)).all()
    return [row[1:] for row in rows]


def contact_columns(url: str) -> dict[str, Any]:
    """Nullability of orders.phone/email, the orders CHECK names, and the orders indexes."""
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns("orders")}
        return {
            "nullable": (columns["phone"], columns["email"]),
            "checks": {c["name"] for c in inspector.get_check_constraints("orders")},
            "indexes": {i["name"] for i in inspector.get_indexes("orders")},
        }
    finally:
        engine.dispose()


def test_0002_upgrade_keeps_the_data_and_allows_one_contact(url: str) -> None:
    migrate(url, "0001")
    assert contact_columns(url)["nullable"] == (False, False)
    engine = make_engine(url)
    try:
        seed(engine, now=NOW)
        before = orders_table(engine)
        items = count(engine, OrderItem)
        migrate(url, "0002")
        assert current_revision(url) == "0002"
        assert orders_table(engine) == before  # SQLite copied the table: nothing lost
        assert count(engine, OrderItem) == items
        schema = contact_columns(url)
        assert schema["nullable"] == (True, True)
        assert schema["checks"] == ORDER_CHECKS_0001 | {"ck_orders_contact"}
        assert {"ix_orders_phone", "ix_orders_email"} <= schema["indexes"]
        # Still enforced after SQLite rebuilt the table the items reference.
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(update(OrderItem.__table__).values(order_id=999_999))
        backend = SqlCommerceBackend(engine, clock=lambda: NOW)
        order = backend.create_order(new_order(None, "paola@example.com"))
        assert (order.phone, order.email) == (None, "paola@example.com")
        assert backend.get_order(order.number) == order
    finally:
        engine.dispose()


def test_0002_check_rejects_an_order_without_contact(engine: Engine) -> None:
    seed(engine, now=NOW)
    with engine.connect() as connection:
        row = dict(connection.execute(select(Order.__table__).limit(1)).mappings().one())
    del row["id"]
    row.update(number="99999", phone=None, email=None)
    with pytest.raises(IntegrityError, match="ck_orders_contact"), engine.begin() as connection:
        connection.execute(insert(Order.__table__).values(**row))
    with engine.begin() as connection:  # one of them is enough
        connection.execute(insert(Order.__table__).values(**{**row, "email": "x@example.com"}))
    assert count(engine, Order) == 61


def test_0002_downgrade_fills_missing_contacts_and_upgrade_restores_them(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    try:
        seed(engine, now=NOW)
        backend = SqlCommerceBackend(engine, clock=lambda: NOW)
        email_only = backend.create_order(new_order(None, "paola@example.com")).number
        phone_only = backend.create_order(new_order("55 4321 8765", None)).number
        before = orders_table(engine)

        downgrade(url, "0001")
        assert current_revision(url) == "0001"
        schema = contact_columns(url)
        assert schema["nullable"] == (False, False)
        assert schema["checks"] == ORDER_CHECKS_0001
        assert {"ix_orders_phone", "ix_orders_email"} <= schema["indexes"]
        with engine.connect() as connection:
            contacts = dict(
                (number, (phone, email))
                for number, phone, email in connection.execute(
                    select(Order.number, Order.phone, Order.email)
                )
            )
        # "" for the missing contact (which 0001's NOT NULL needs); nothing else changed.
        assert contacts[email_only] == ("", "paola@example.com")
        assert contacts[phone_only] == ("+525543218765", "")
        assert all(phone and email for number, (phone, email) in contacts.items()
                   if number not in (email_only, phone_only))  # fmt: skip
        assert len(contacts) == 62
        # An empty contact proves nothing: the 0001-era lookups never match it.
        assert backend.orders_for_contact(phone="", email="") == []

        migrate(url)  # and back: the empty strings become NULL again
        assert contact_columns(url)["nullable"] == (True, True)
        assert orders_table(engine) == before
        assert backend.get_order(email_only).phone is None
        assert backend.get_order(phone_only).email is None
    finally:
        engine.dispose()


def test_sqlite_migration_refuses_to_leave_broken_references(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    migrate(url, "0001")
    engine = make_engine(url)
    try:
        seed(engine, now=NOW)
    finally:
        engine.dispose()
    # A plain sqlite3 connection does not enforce foreign keys: a dangling item sneaks in.
    with closing(sqlite3.connect(tmp_path / "broken.db")) as connection, connection:
        connection.execute("UPDATE order_items SET order_id = 999999 WHERE id = 1")
    with pytest.raises(RuntimeError, match="broken foreign key"):
        migrate(url, "0002")
    assert current_revision(url) == "0001"  # rolled back, table rebuild included
    assert contact_columns(url)["nullable"] == (False, False)


def test_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/hilo")
    assert database_url() == "postgresql://u@db/hilo"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/hilo")
    assert database_url() == "postgresql://u@db/hilo"
    monkeypatch.delenv("DATABASE_URL")
    assert database_url() == f"sqlite:///{REPO_ROOT / 'var' / 'commerce.db'}"
    assert (REPO_ROOT / "var").is_dir()


def test_postgres_tests_leave_nothing_behind() -> None:
    admin = make_engine(require_postgres())
    try:
        with postgres_schema("hilo_commerce_test") as url:
            migrate(url)
            engine = make_engine(url)
            try:
                with engine.connect() as connection:
                    schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
            finally:
                engine.dispose()
            assert schema.startswith("hilo_commerce_test_")
            assert tables(url) == TABLES | {VERSION_TABLE}
        assert set(inspect(admin).get_table_names(schema="public")).isdisjoint(TABLES)
        with admin.connect() as connection:
            exists = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_namespace WHERE nspname = %(name)s", {"name": schema}
            ).scalar_one()
        assert exists == 0
    finally:
        admin.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- seed


def test_seed_contents(seeded: Engine) -> None:
    backend = SqlCommerceBackend(seeded)
    assert count(seeded, Product) >= 30
    assert count(seeded, Order) >= 50
    with seeded.connect() as connection:
        names = connection.execute(select(Product.name)).scalars().all()
        statuses = set(connection.execute(select(Order.status)).scalars())
        shipped = connection.execute(
            select(Order.carrier, Order.tracking_number, Order.shipped_at).where(
                Order.status.in_(["shipped", "delivered", "returned"])
            )
        ).all()
        prices = connection.execute(select(Variant.price_cents)).scalars().all()
    assert sorted(names) == sorted(CATALOGUE)
    assert statuses == {status.value for status in OrderStatus}
    assert {carrier for carrier, _, _ in shipped} == {"Estafeta", "DHL"}
    assert all(tracking and shipped_at for _, tracking, shipped_at in shipped)
    assert all(price > 0 and price % 100 == 0 for price in prices)  # whole pesos

    ana = backend.get_order("10001")
    assert (ana.customer_name, ana.email, ana.status) == (
        "Ana Martínez",
        "ana@example.com",
        OrderStatus.SHIPPED,
    )
    assert ana.phone == normalize_phone("+5215512345678") == "+525512345678"
    assert (ana.carrier, ana.tracking_number) == ("Estafeta", "EST123456789MX")
    assert [(i.product_name, i.size, i.colour, i.quantity) for i in ana.items] == [
        ("Camiseta básica", "M", "negro", 2)
    ]
    assert ana.expected_delivery is not None
    assert ana.shipped_at is not None
    assert ana.delivered_at is None

    john = backend.get_order("10002")
    assert (john.customer_name, john.phone, john.email) == (
        "John Smith",
        "+14155550123",
        "john@example.com",
    )
    assert john.status is OrderStatus.DELIVERED
    assert john.delivered_at == NOW - timedelta(days=5)

    lucia = backend.get_order("10003")
    assert (lucia.customer_name, lucia.phone, lucia.email) == (
        "Lucía Fernández",
        "+5491155551234",
        "lucia@example.com",
    )
    assert lucia.status is OrderStatus.PAID
    assert lucia.shipped_at is None
    assert lucia.carrier is None
    assert lucia.tracking_number is None

    sneakers = backend.get_product("zapatillas-urbanas")
    assert sneakers.sizes == ("38", "39", "40", "41", "42", "43", "44")
    assert set(sneakers.colours) == {"blanco", "negro"}
    assert {v.colour_en for v in sneakers.variants} == {"white", "black"}
    assert all(variant.stock > 0 for variant in sneakers.variants)
    jacket = backend.get_product("chaqueta-impermeable")
    assert jacket.variants
    assert all(variant.stock == 0 for variant in jacket.variants)

    # Customers with several orders, for the "which order?" question.
    assert len(backend.orders_for_contact(phone="+525512345678")) >= 3


def test_seed_orders_are_consistent(seeded: Engine) -> None:
    backend = SqlCommerceBackend(seeded)
    with seeded.connect() as connection:
        numbers = connection.execute(select(Order.number)).scalars().all()
        returned = connection.execute(
            select(Order.number).join(Return, Return.order_id == Order.id)
        ).scalars()
        returned_orders = set(returned)
    for number in numbers:
        order = backend.get_order(number)
        assert order.items
        assert order.subtotal_cents == sum(item.total_cents for item in order.items)
        assert order.shipping_cents == shipping_cents(order.delivery_option, order.subtotal_cents)
        assert order.total_cents == order.subtotal_cents + order.shipping_cents
        assert order.created_at <= NOW
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED):
            assert order.shipped_at is not None
            assert order.created_at < order.shipped_at <= NOW
            assert order.carrier in ("Estafeta", "DHL")
        else:
            assert order.shipped_at is None
            assert order.carrier is None
        if order.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
            assert order.delivered_at is not None
            assert order.shipped_at < order.delivered_at
        if order.status is OrderStatus.RETURNED:
            assert number in returned_orders


def test_seed_is_deterministic(seeded: Engine) -> None:
    def snapshot() -> list[Any]:
        with seeded.connect() as connection:
            orders = connection.execute(select(Order.__table__).order_by(Order.number)).all()
            items = connection.execute(
                select(OrderItem.sku, OrderItem.quantity).order_by(OrderItem.id)
            ).all()
            variants = connection.execute(
                select(Variant.sku, Variant.stock, Variant.price_cents).order_by(Variant.sku)
            ).all()
        return [[row[1:] for row in orders], items, variants]  # ids aside

    first = snapshot()
    seed(seeded, now=NOW)
    assert snapshot() == first


def test_seed_replaces_everything(seeded: Engine) -> None:
    backend = SqlCommerceBackend(seeded)
    backend.cancel_order("10003")
    backend.record_lookup_attempt("someone")
    seed(seeded, now=NOW)
    assert backend.get_order("10003").status is OrderStatus.PAID
    assert backend.record_lookup_attempt("someone") == 1


def test_seed_if_empty_is_idempotent(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed_main(["--url", url, "--if-empty"]) == 0  # migrates, then seeds
    assert "60 orders" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        backend = SqlCommerceBackend(engine)
        backend.cancel_order("10005")
        orders = count(engine, Order)
        assert seed_main(["--url", url, "--if-empty"]) == 0
        assert "left as is" in capsys.readouterr().out
        assert count(engine, Order) == orders
        assert backend.get_order("10005").status is OrderStatus.CANCELLED  # kept
        assert seed_main(["--url", url]) == 0  # without --if-empty: reseed
        assert backend.get_order("10005").status is OrderStatus.PENDING_PAYMENT
        assert not is_empty(engine)
    finally:
        engine.dispose()


def test_seed_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    for expected in ("60 orders", "left as is"):
        done = subprocess.run(
            [sys.executable, "-m", "actions.commerce.seed", "--if-empty"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
    assert current_revision(url) == HEAD


def test_synthetic_orders(seeded: Engine) -> None:
    first, last = add_synthetic_orders(seeded, 1_200, batch_size=500, now=NOW)
    assert (first, last) == (10061, 11260)
    assert count(seeded, Order) == 60 + 1_200
    backend = SqlCommerceBackend(seeded)
    order = backend.get_order(str(last))
    assert 1 <= len(order.items) <= 3
    assert order.total_cents == order.subtotal_cents + order.shipping_cents
    assert backend.orders_for_contact(phone=order.phone)
    # New orders continue after the synthetic ones.
    with seeded.connect() as connection:
        counter = connection.execute(
            select(Counter.value).where(Counter.name == "order_number")
        ).scalar_one()
    assert counter == last
    with pytest.raises(ValueError, match="positive"):
        add_synthetic_orders(seeded, 0)
