"""Demo data for "Lumen", the fictional Mexican clothing store the bot serves.

    python -m actions.commerce.seed              # migrate, wipe commerce data, load the demo
    python -m actions.commerce.seed --if-empty   # migrate; load the demo only if no products
    python -m actions.commerce.seed --orders N   # ...then add N synthetic orders (benchmarks)

The data is deterministic (fixed random seed) and its dates are relative to "now", so
statements such as "order 10002 was delivered 5 days ago" stay true whenever it is seeded.
The catalogue is the one the bot's training data names (32 products, prices in MXN), and the
orders cover every status, with customers who own several orders. docs/demo-store.md lists
what is in it; tests/unit/commerce checks that this module keeps those promises.

Everything here writes through the migrated schema with Core inserts (`executemany`), which is
what lets `--orders 100000` finish in seconds.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine

from actions.commerce.backend import DeliveryOption, OrderStatus, normalize_text, shipping_cents
from actions.commerce.database import database_url, make_engine, migrate
from actions.commerce.models import (
    Counter,
    LookupAttempt,
    Order,
    OrderItem,
    Product,
    Return,
    Variant,
    VerificationFailure,
)
from actions.commerce.sql import ORDER_COUNTER, RETURN_COUNTER

__all__ = [
    "CATALOGUE",
    "COLOURS",
    "SEED",
    "add_synthetic_orders",
    "is_empty",
    "main",
    "seed",
]

logger = logging.getLogger(__name__)

SEED = 20240601  # the demo's fixed random seed

# Colour names as the store labels them (Spanish), with English names and SKU codes.
COLOURS: dict[str, tuple[str, str]] = {
    "negro": ("black", "NEG"),
    "blanco": ("white", "BLA"),
    "gris": ("grey", "GRI"),
    "azul marino": ("navy", "MAR"),
    "azul": ("blue", "AZU"),
    "azul claro": ("light blue", "AZC"),
    "beige": ("beige", "BEI"),
    "café": ("brown", "CAF"),
    "caqui": ("khaki", "CAQ"),
    "verde": ("green", "VER"),
    "rosa": ("pink", "ROS"),
    "amarillo": ("yellow", "AMA"),
    "mostaza": ("mustard", "MOS"),
    "vino": ("burgundy", "VIN"),
    "carey": ("tortoiseshell", "CAR"),
    "multicolor": ("multicolour", "MUL"),
}

# Size runs by name; shoe sizes are written as ranges ("38-44": EU 38 to 44).
SIZE_RUNS: dict[str, tuple[str, ...]] = {
    "S-XL": ("S", "M", "L", "XL"),
    "XS-XL": ("XS", "S", "M", "L", "XL"),
    "XS-XXL": ("XS", "S", "M", "L", "XL", "XXL"),
    "XS-L": ("XS", "S", "M", "L"),
    "S-L": ("S", "M", "L"),
    "28-36": ("28", "30", "32", "34", "36"),  # jeans and trousers: waist in inches
    "85-100": ("85", "90", "95", "100"),  # belts: length in cm
    "U": ("Única",),  # one size
}


def _sizes(run: str) -> tuple[str, ...]:
    if run in SIZE_RUNS:
        return SIZE_RUNS[run]
    first, last = (int(end) for end in run.split("-"))
    return tuple(str(size) for size in range(first, last + 1))


@dataclass(frozen=True)
class CatalogueEntry:
    """One demo product: its names, SKU code, category, price (MXN), sizes and colours."""

    name: str
    name_en: str
    code: str
    category: str
    price: int
    sizes: tuple[str, ...]
    colours: tuple[str, ...]

    @property
    def slug(self) -> str:
        """URL-style id: "Camiseta básica" → "camiseta-basica"."""
        return normalize_text(self.name).replace(" ", "-")

    def sku(self, size: str, colour: str) -> str:
        """SKU of one variant: "CBAS-M-NEG" (one-size items use "U")."""
        size_code = "U" if size == "Única" else size
        return f"{self.code}-{size_code}-{COLOURS[colour][1]}"


# The catalogue the bot's training data names: Spanish name, English name, SKU code,
# category, price (MXN), size run, colours (Spanish, "/"-separated).
_CATALOGUE_TABLE = (
    ("Camiseta básica", "Basic T-shirt", "CBAS", "ropa", 249, "XS-XXL",
     "negro/blanco/gris/azul marino"),
    ("Camiseta estampada", "Graphic T-shirt", "CEST", "ropa", 349, "S-XL", "blanco/negro"),
    ("Polo piqué", "Piqué polo shirt", "POLO", "ropa", 549, "S-XL", "azul marino/blanco/verde"),
    ("Camisa de lino", "Linen shirt", "CLIN", "ropa", 899, "S-XL", "blanco/beige/azul"),
    ("Camisa oxford", "Oxford shirt", "COXF", "ropa", 749, "S-XL", "azul/blanco"),
    ("Sudadera con capucha", "Hoodie", "SUDC", "ropa", 799, "S-XL", "gris/negro/azul marino"),
    ("Suéter de punto", "Knit sweater", "SUET", "ropa", 949, "S-XL", "beige/verde/gris"),
    ("Chaqueta impermeable", "Waterproof jacket", "CHIM", "ropa", 1499, "S-XL",
     "negro/amarillo/azul marino"),
    ("Chamarra de mezclilla", "Denim jacket", "CHMZ", "ropa", 1299, "S-XL", "azul"),
    ("Chaleco acolchado", "Quilted vest", "CHAL", "ropa", 1099, "S-XL", "negro/verde"),
    ("Jeans slim", "Slim jeans", "JSLM", "ropa", 899, "28-36", "azul/negro"),
    ("Jeans rectos", "Straight jeans", "JREC", "ropa", 899, "28-36", "azul/azul claro"),
    ("Pantalón chino", "Chino trousers", "PCHI", "ropa", 749, "28-36", "caqui/azul marino/beige"),
    ("Pantalón jogger", "Joggers", "PJOG", "ropa", 649, "S-XL", "gris/negro"),
    ("Shorts deportivos", "Sports shorts", "SHDP", "ropa", 399, "S-XL", "negro/azul"),
    ("Falda midi", "Midi skirt", "FMID", "ropa", 699, "XS-L", "negro/verde/rosa"),
    ("Vestido camisero", "Shirt dress", "VCAM", "ropa", 1099, "XS-L", "azul/blanco"),
    ("Leggings deportivos", "Sports leggings", "LEGD", "ropa", 549, "XS-XL", "negro/gris"),
    ("Zapatillas urbanas", "Urban sneakers", "ZURB", "calzado", 1299, "38-44", "blanco/negro"),
    ("Zapatillas running", "Running shoes", "ZRUN", "calzado", 1599, "38-45", "negro/azul/gris"),
    ("Botines de piel", "Leather ankle boots", "BOTP", "calzado", 1899, "35-41", "negro/café"),
    ("Sandalias de piel", "Leather sandals", "SANP", "calzado", 799, "35-41", "café/negro"),
    ("Mocasines", "Loafers", "MOCA", "calzado", 1399, "39-44", "café/negro"),
    ("Gorra clásica", "Classic cap", "GORR", "accesorios", 299, "U", "negro/azul marino/beige"),
    ("Gorro de lana", "Wool beanie", "GLAN", "accesorios", 349, "U", "gris/negro/mostaza"),
    ("Bufanda de lana", "Wool scarf", "BUFL", "accesorios", 499, "U", "gris/vino"),
    ("Cinturón de piel", "Leather belt", "CINP", "accesorios", 549, "85-100", "negro/café"),
    ("Mochila urbana", "Urban backpack", "MOCH", "accesorios", 999, "U", "negro/gris"),
    ("Bolso tote", "Tote bag", "TOTE", "accesorios", 649, "U", "beige/negro"),
    ("Calcetines (pack de 3)", "Socks (3-pack)", "CALC", "accesorios", 199, "S-L",
     "blanco/negro/multicolor"),
    ("Pijama de algodón", "Cotton pyjamas", "PIJA", "ropa", 799, "S-XL", "azul/gris/rosa"),
    ("Lentes de sol", "Sunglasses", "LSOL", "accesorios", 899, "U", "negro/carey"),
)  # fmt: skip
# What customers also call them (Mexican, Argentine, Chilean, Spanish and English words seen
# in the bot's training data), "|"-separated.
ALIASES = {
    "CBAS": "playera básica|remera básica|polera básica|playera|remera|basic tee|t-shirt",
    "CEST": "playera estampada|remera estampada|polera estampada|playera|remera|graphic tee",
    "POLO": "polo|polo shirt|piqué polo",
    "SUDC": "sudadera|hoodie|buzo|buzo con capucha|sweatshirt",
    "SUET": "suéter|sweater|jersey de punto|wool sweater",
    "CHIM": "chamarra impermeable|campera impermeable|rain jacket|raincoat|chaqueta",
    "CHMZ": "chamarra|chaqueta de mezclilla|campera de jean|cazadora vaquera|jean jacket",
    "CHAL": "chaleco|puffer vest|vest",
    "JSLM": "jeans|vaqueros slim|pantalón de mezclilla",
    "JREC": "jeans|vaqueros rectos|straight leg jeans",
    "PCHI": "chinos|chino pants|pantalón",
    "PJOG": "jogger|jogger pants|pants deportivo|sweatpants|pantalón",
    "SHDP": "shorts|running shorts|short deportivo",
    "FMID": "falda|skirt",
    "VCAM": "vestido|dress",
    "LEGD": "leggings|mallas|licras",
    "ZURB": "tenis|tenis urbanos|sneakers|zapatillas|shoes",
    "ZRUN": "tenis running|tenis para correr|running|zapatillas deportivas|zapatillas",
    "BOTP": "botines|botas|boots|leather boots|chelsea boots",
    "SANP": "sandalias|sandals|huaraches",
    "MOCA": "zapatos|zapatos de piel|shoes",
    "GORR": "gorra|cachucha|cap|baseball cap",
    "GLAN": "gorro|beanie",
    "BUFL": "bufanda|scarf",
    "CINP": "cinturón|cinto|belt",
    "MOCH": "mochila|backpack",
    "TOTE": "bolso|bolsa|tote|bag",
    "CALC": "calcetines|calcetas|medias|socks",
    "PIJA": "pijama|pajamas|pajama set",
    "LSOL": "lentes|gafas de sol|gafas|anteojos de sol",
}
CATALOGUE: tuple[CatalogueEntry, ...] = tuple(
    CatalogueEntry(name, name_en, code, category, price, _sizes(run), tuple(colours.split("/")))
    for name, name_en, code, category, price, run, colours in _CATALOGUE_TABLE
)

# Products whose stock the demo fixes instead of drawing it: out of stock, and always in stock.
_OUT_OF_STOCK = {"CHIM"}
_ALWAYS_IN_STOCK = {"CBAS", "ZURB"}


@dataclass(frozen=True)
class Customer:
    """A demo customer; every order repeats these details (the store has no accounts)."""

    name: str
    phone: str
    email: str
    street: str
    city: str
    postal_code: str


ANA = Customer(
    "Ana Martínez",
    "+525512345678",  # WhatsApp sends it as 5215512345678; stored without the old mobile "1"
    "ana@example.com",
    "Calle Durango 210, Roma Norte",
    "Ciudad de México",
    "06700",
)
JOHN = Customer(
    "John Smith",
    "+14155550123",
    "john@example.com",
    "Calle Ámsterdam 45, Hipódromo Condesa",
    "Ciudad de México",
    "06100",
)
LUCIA = Customer(
    "Lucía Fernández",
    "+5491155551234",
    "lucia@example.com",
    "Av. Vallarta 1500, Americana",
    "Guadalajara",
    "44160",
)
# Fictional people; phone numbers in the 55 2000 00xx range, emails at example.com.
_OTHERS_TABLE = (
    ("Carlos Hernández", "Calle Tonalá 12, Roma Norte", "Ciudad de México", "06700"),
    ("María López", "Av. Revolución 880, San Pedro de los Pinos", "Ciudad de México", "03800"),
    ("José García", "Calle Morelos 77, Centro", "Monterrey", "64000"),
    ("Sofía Ramírez", "Av. Hidalgo 1432, Ladrón de Guevara", "Guadalajara", "44600"),
    ("Emily Johnson", "Calle Orizaba 150, Roma Norte", "Ciudad de México", "06700"),
    ("Diego Torres", "Av. Constitución 300, Centro", "Monterrey", "64000"),
    ("Valeria Cruz", "Calle 60 No. 455, Centro", "Mérida", "97000"),
    ("Miguel Sánchez", "Blvd. Agua Caliente 4558, Aviación", "Tijuana", "22014"),
    ("Fernanda Morales", "Av. Juárez 1200, Centro", "Puebla", "72000"),
    ("Luis Rodríguez", "Calle Zaragoza 88, Centro", "Querétaro", "76000"),
    ("Camila Flores", "Av. Coyoacán 1622, Del Valle", "Ciudad de México", "03100"),
    ("Jorge Reyes", "Calle Allende 45, Centro", "León", "37000"),
    ("Daniela Gómez", "Av. Chapultepec 480, Americana", "Guadalajara", "44130"),
    ("Alejandro Díaz", "Calle Madero 210, Centro", "Oaxaca", "68000"),
    ("Paula Vargas", "Av. Tulum 230, Centro", "Cancún", "77500"),
)
OTHERS = tuple(
    Customer(
        name,
        f"+5255200000{index:02d}",
        normalize_text(name).replace(" ", ".") + "@example.com",
        street,
        city,
        postal_code,
    )
    for index, (name, street, city, postal_code) in enumerate(_OTHERS_TABLE)
)
CARLOS, MARIA, JOSE, SOFIA, EMILY = OTHERS[:5]
# Pickup orders are delivered to the store's Roma Norte shop (store/facts.yml).
PICKUP_ADDRESS = ("Av. Álvaro Obregón 123, Roma Norte", "Ciudad de México", "06700")
CARRIERS = ("Estafeta", "DHL")


@dataclass(frozen=True)
class DemoOrder:
    """One fixed demo order; times are offsets before "now"."""

    number: int
    customer: Customer
    status: OrderStatus
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    created: timedelta
    shipped: timedelta | None = None
    delivered: timedelta | None = None
    carrier: str | None = None
    tracking: str | None = None
    delivery: DeliveryOption = DeliveryOption.STANDARD
    payment: str = "card"
    return_status: str | None = None


_DAY = timedelta(days=1)

# The orders the bot's tests and demo script rely on. 10001-10003 are fixed by the issue;
# Ana also owns 10004 (delivered long ago: return window closed) and 10005 (awaiting payment).
FIXED_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(10001, ANA, OrderStatus.SHIPPED, (("CBAS-M-NEG", 2),), 3 * _DAY, 2 * _DAY,
              carrier="Estafeta", tracking="EST123456789MX"),
    DemoOrder(10002, JOHN, OrderStatus.DELIVERED, (("ZURB-42-BLA", 1),), 10 * _DAY, 8 * _DAY,
              5 * _DAY, carrier="DHL", tracking="4829301756"),
    DemoOrder(10003, LUCIA, OrderStatus.PAID, (("VCAM-M-AZU", 1), ("TOTE-U-BEI", 1)), _DAY,
              payment="paypal"),
    DemoOrder(10004, ANA, OrderStatus.DELIVERED, (("JSLM-30-AZU", 1),), 52 * _DAY, 50 * _DAY,
              45 * _DAY, carrier="DHL", tracking="7391046285"),
    DemoOrder(10005, ANA, OrderStatus.PENDING_PAYMENT, (("SUDC-M-GRI", 1),), timedelta(hours=2),
              payment="oxxo"),
    DemoOrder(10006, CARLOS, OrderStatus.PREPARING, (("ZRUN-42-NEG", 1),), _DAY,
              delivery=DeliveryOption.EXPRESS, payment="mercado_pago"),
    DemoOrder(10007, MARIA, OrderStatus.CANCELLED, (("FMID-S-NEG", 1),), 20 * _DAY),
    DemoOrder(10008, JOSE, OrderStatus.RETURNED, (("POLO-L-MAR", 2),), 40 * _DAY, 38 * _DAY,
              34 * _DAY, carrier="Estafeta", tracking="EST550123987MX", return_status="refunded"),
    DemoOrder(10009, SOFIA, OrderStatus.DELIVERED, (("LEGD-M-NEG", 1), ("CALC-M-BLA", 2)),
              33 * _DAY, 31 * _DAY, 29 * _DAY, carrier="Estafeta", tracking="EST774410296MX",
              payment="spei"),
    DemoOrder(10010, EMILY, OrderStatus.SHIPPED, (("LSOL-U-CAR", 1),), 2 * _DAY, _DAY,
              carrier="DHL", tracking="5602918374", delivery=DeliveryOption.EXPRESS),
    DemoOrder(10011, JOHN, OrderStatus.CANCELLED, (("GORR-U-MAR", 1),), 15 * _DAY),
    DemoOrder(10012, CARLOS, OrderStatus.PENDING_PAYMENT, (("MOCH-U-NEG", 1),), timedelta(hours=5),
              delivery=DeliveryOption.PICKUP, payment="spei"),
)  # fmt: skip
GENERATED_ORDERS = 48  # 10013-10060: random customers, statuses and items
_GENERATED_CUSTOMERS = (ANA, *OTHERS)


def is_empty(engine: Engine) -> bool:
    """The store has no products (a fresh database, or one wiped by a reseed)."""
    with engine.connect() as connection:
        return not connection.execute(select(Product.id).limit(1)).first()


def _wipe(connection: Connection) -> None:
    """Deletes all commerce data, children first, and resets the number counters.

    A table a later migration added may be missing (the migration tests seed older schemas).
    """
    present = set(inspect(connection).get_table_names())
    for model in (VerificationFailure, LookupAttempt, Return, OrderItem, Order, Variant, Product):
        if model.__tablename__ in present:
            connection.execute(delete(model.__table__))
    connection.execute(
        update(Counter.__table__).where(Counter.name == ORDER_COUNTER).values(value=10000)
    )
    connection.execute(
        update(Counter.__table__).where(Counter.name == RETURN_COUNTER).values(value=0)
    )


def _insert_catalogue(connection: Connection, rng: random.Random) -> dict[str, dict[str, Any]]:
    """Inserts products and variants; returns variant rows (with ids and names) by SKU."""
    connection.execute(
        insert(Product.__table__),
        [
            {
                "slug": entry.slug,
                "name": entry.name,
                "name_en": entry.name_en,
                "category": entry.category,
                "aliases": ALIASES.get(entry.code, ""),
            }
            for entry in CATALOGUE
        ],
    )
    product_ids = dict(connection.execute(select(Product.slug, Product.id)).all())
    variants = []
    for entry in CATALOGUE:
        for size in entry.sizes:
            for colour in entry.colours:
                if entry.code in _OUT_OF_STOCK:
                    stock = 0
                elif entry.code in _ALWAYS_IN_STOCK:
                    stock = rng.randint(6, 30)
                else:
                    stock = rng.choice((0, 1, 3, 5, 8, 12, 15, 20, 25, 40))
                variants.append(
                    {
                        "product_id": product_ids[entry.slug],
                        "sku": entry.sku(size, colour),
                        "size": size,
                        "colour": colour,
                        "colour_en": COLOURS[colour][0],
                        "price_cents": entry.price * 100,
                        "stock": stock,
                    }
                )
    connection.execute(insert(Variant.__table__), variants)
    names = {product_ids[entry.slug]: entry.name for entry in CATALOGUE}
    rows = connection.execute(
        select(
            Variant.id,
            Variant.sku,
            Variant.size,
            Variant.colour,
            Variant.price_cents,
            Variant.product_id,
        )
    ).all()
    return {
        row.sku: {
            "variant_id": row.id,
            "sku": row.sku,
            "product_name": names[row.product_id],
            "size": row.size,
            "colour": row.colour,
            "unit_price_cents": row.price_cents,
        }
        for row in rows
    }


def _tracking(rng: random.Random, carrier: str) -> str:
    if carrier == "Estafeta":
        return f"EST{rng.randrange(10**8, 10**9)}MX"
    return str(rng.randrange(10**9, 10**10))


def _generated_orders(rng: random.Random, skus: Sequence[str]) -> list[DemoOrder]:
    """Random orders after the fixed ones, cycling through every status."""
    statuses = list(OrderStatus)
    orders = []
    for index in range(GENERATED_ORDERS):
        status = statuses[index % len(statuses)]
        customer = rng.choice(_GENERATED_CUSTOMERS)
        lines = tuple((sku, rng.randint(1, 2)) for sku in rng.sample(list(skus), rng.randint(1, 3)))
        delivery = rng.choice(
            (DeliveryOption.STANDARD,) * 6 + (DeliveryOption.EXPRESS, DeliveryOption.PICKUP)
        )
        payment = rng.choice(("card", "card", "card", "paypal", "mercado_pago", "spei", "oxxo"))
        shipped = delivered = None
        carrier = tracking = None
        return_status = None
        if status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PREPARING):
            created = timedelta(hours=rng.randint(1, 72))
        elif status is OrderStatus.CANCELLED:
            created = timedelta(days=rng.randint(1, 60))
        elif status is OrderStatus.SHIPPED:
            created = timedelta(days=rng.randint(2, 6))
            shipped = created - timedelta(days=1)
        else:  # delivered or returned
            created = timedelta(days=rng.randint(8, 90))
            shipped = created - timedelta(days=1)
            delivered = shipped - timedelta(days=rng.randint(2, 5))
            if status is OrderStatus.RETURNED:
                return_status = rng.choice(("received", "refunded"))
        if shipped is not None:
            if delivery is DeliveryOption.PICKUP:
                delivery = DeliveryOption.STANDARD  # pickup orders are never shipped
            carrier = rng.choice(CARRIERS)
            tracking = _tracking(rng, carrier)
        orders.append(
            DemoOrder(
                number=10013 + index,
                customer=customer,
                status=status,
                lines=lines,
                created=created,
                shipped=shipped,
                delivered=delivered,
                carrier=carrier,
                tracking=tracking,
                delivery=delivery,
                payment=payment,
                return_status=return_status,
            )
        )
    return orders


def _order_row(order: DemoOrder, now: datetime, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    subtotal = sum(item["unit_price_cents"] * item["quantity"] for item in items)
    shipping = shipping_cents(order.delivery, subtotal)
    pickup = order.delivery is DeliveryOption.PICKUP
    street, city, postal_code = (
        PICKUP_ADDRESS
        if pickup
        else (order.customer.street, order.customer.city, order.customer.postal_code)
    )
    created = now - order.created
    shipped = now - order.shipped if order.shipped is not None else None
    delivered = now - order.delivered if order.delivered is not None else None
    if delivered is not None:
        expected = delivered.date()
    elif shipped is not None:
        days = 2 if order.delivery is DeliveryOption.EXPRESS else 4
        expected = (shipped + timedelta(days=days)).date()
    else:
        expected = None
    return {
        "number": str(order.number),
        "status": order.status.value,
        "customer_name": order.customer.name,
        "phone": order.customer.phone,
        "email": order.customer.email,
        "street": street,
        "city": city,
        "postal_code": postal_code,
        "country": "MX",
        "delivery_option": order.delivery.value,
        "payment_method": order.payment,
        "carrier": order.carrier,
        "tracking_number": order.tracking,
        "expected_delivery": expected,
        "created_at": created,
        "shipped_at": shipped,
        "delivered_at": delivered,
        "cancelled_at": created + timedelta(hours=3)
        if order.status is OrderStatus.CANCELLED
        else None,
        "subtotal_cents": subtotal,
        "shipping_cents": shipping,
        "total_cents": subtotal + shipping,
    }


def seed(engine: Engine, *, now: datetime | None = None) -> dict[str, int]:
    """Replaces all commerce data with the demo store, in one transaction.

    Args:
        engine: A migrated database.
        now: The moment the relative dates count back from (default: the current time).

    Returns:
        Row counts: products, variants, orders, returns.
    """
    now = now or datetime.now(timezone.utc)
    rng = random.Random(SEED)  # noqa: S311 - demo data, reproducible on purpose
    with engine.begin() as connection:
        _wipe(connection)
        variants = _insert_catalogue(connection, rng)
        orders = [*FIXED_ORDERS, *_generated_orders(rng, sorted(variants))]
        items_by_number = {
            order.number: [{**variants[sku], "quantity": quantity} for sku, quantity in order.lines]
            for order in orders
        }
        connection.execute(
            insert(Order.__table__),
            [_order_row(order, now, items_by_number[order.number]) for order in orders],
        )
        ids = dict(connection.execute(select(Order.number, Order.id)).all())
        connection.execute(
            insert(OrderItem.__table__),
            [
                {**item, "order_id": ids[str(number)]}
                for number, items in items_by_number.items()
                for item in items
            ],
        )
        returns = [
            {
                "number": f"R-{index:05d}",
                "order_id": ids[str(order.number)],
                "reason": "No me quedó la talla" if index % 2 else "Llegó con un defecto",
                "status": order.return_status,
                "created_at": now - order.delivered + timedelta(days=2) if order.delivered else now,
            }
            for index, order in enumerate(
                (order for order in orders if order.return_status), start=1
            )
        ]
        connection.execute(insert(Return.__table__), returns)
        _set_counter(connection, ORDER_COUNTER, max(order.number for order in orders))
        _set_counter(connection, RETURN_COUNTER, len(returns))
    counts = {
        "products": len(CATALOGUE),
        "variants": len(variants),
        "orders": len(orders),
        "returns": len(returns),
    }
    logger.info("seeded the demo store: %s", counts)
    return counts


def _set_counter(connection: Connection, name: str, value: int) -> None:
    connection.execute(update(Counter.__table__).where(Counter.name == name).values(value=value))


def add_synthetic_orders(
    engine: Engine,
    count: int,
    *,
    now: datetime | None = None,
    customers: int | None = None,
    batch_size: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Adds `count` random orders (1-3 items each) for load tests, in batched Core inserts.

    Customers are synthetic ("Cliente 123", +52 55 3xxx xxxx, cliente123@example.com), about
    three orders each by default, so lookups by phone return a realistic handful. The order
    counter is advanced first, in the same transaction, so concurrent `create_order` calls
    wait and then continue after the new numbers. Needs the catalogue (seed first).

    Returns:
        The first and last order numbers added.
    """
    if count <= 0:
        raise ValueError("count must be positive")
    now = now or datetime.now(timezone.utc)
    rng = random.Random(SEED + count)  # noqa: S311 - synthetic data, reproducible on purpose
    customers = customers or max(1, count // 3)
    with engine.begin() as connection:
        connection.execute(
            update(Counter.__table__)
            .where(Counter.name == ORDER_COUNTER)
            .values(value=Counter.__table__.c.value + count)
        )
        last = connection.execute(
            select(Counter.value).where(Counter.name == ORDER_COUNTER)
        ).scalar_one()
        first = last - count + 1
        variants = [
            dict(row._mapping)
            for row in connection.execute(
                select(
                    Variant.id.label("variant_id"),
                    Variant.sku,
                    Variant.size,
                    Variant.colour,
                    Variant.price_cents.label("unit_price_cents"),
                    Product.name.label("product_name"),
                )
                .join(Product, Product.id == Variant.product_id)
                .order_by(Variant.id)
            )
        ]
        if not variants:
            raise RuntimeError("no catalogue: seed the demo store first")
        statuses = [status.value for status in OrderStatus]
        for start in range(first, last + 1, batch_size):
            stop = min(start + batch_size, last + 1)
            before = connection.execute(select(func.max(Order.id))).scalar() or 0
            orders, items = [], []
            for number in range(start, stop):
                customer = rng.randrange(customers)
                status = rng.choice(statuses)
                lines = rng.sample(variants, rng.randint(1, 3))
                quantities = [rng.randint(1, 2) for _ in lines]
                subtotal = sum(
                    line["unit_price_cents"] * qty
                    for line, qty in zip(lines, quantities, strict=True)
                )
                shipping = shipping_cents(DeliveryOption.STANDARD, subtotal)
                # A week to a year ago, so every timestamp derived from it is in the past.
                created = now - timedelta(days=7, minutes=rng.randrange(358 * 24 * 60))
                shipped = status in ("shipped", "delivered", "returned")
                carrier = rng.choice(CARRIERS) if shipped else None
                orders.append(
                    {
                        "number": str(number),
                        "status": status,
                        "customer_name": f"Cliente {customer}",
                        "phone": f"+5255{30000000 + customer:08d}",
                        "email": f"cliente{customer}@example.com",
                        "street": f"Calle {rng.randint(1, 200)} No. {rng.randint(1, 999)}",
                        "city": "Ciudad de México",
                        "postal_code": f"{rng.randint(1000, 16999):05d}",
                        "country": "MX",
                        "delivery_option": "standard",
                        "payment_method": "card",
                        "carrier": carrier,
                        "tracking_number": _tracking(rng, carrier) if carrier else None,
                        "expected_delivery": (created + timedelta(days=5)).date()
                        if shipped
                        else None,
                        "created_at": created,
                        "shipped_at": created + _DAY if shipped else None,
                        "delivered_at": created + 4 * _DAY
                        if status in ("delivered", "returned")
                        else None,
                        "cancelled_at": created + _DAY if status == "cancelled" else None,
                        "subtotal_cents": subtotal,
                        "shipping_cents": shipping,
                        "total_cents": subtotal + shipping,
                    }
                )
                items.append(list(zip(lines, quantities, strict=True)))
            connection.execute(insert(Order.__table__), orders)
            ids = dict(
                connection.execute(select(Order.number, Order.id).where(Order.id > before)).all()
            )
            connection.execute(
                insert(OrderItem.__table__),
                [
                    {**line, "order_id": ids[order["number"]], "quantity": quantity}
                    for order, lines in zip(orders, items, strict=True)
                    for line, quantity in lines
                ],
            )
            if progress is not None:
                progress(stop - first)
    return first, last


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: migrate, then seed (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m actions.commerce.seed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/commerce.db)")
    parser.add_argument(
        "--if-empty", action="store_true", help="leave existing data alone; seed only a new store"
    )
    parser.add_argument(
        "--orders", type=int, default=0, metavar="N", help="also add N synthetic orders"
    )
    args = parser.parse_args(argv)
    if args.orders < 0:
        parser.error("--orders must not be negative")
    url = args.url or database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        if args.if_empty and not is_empty(engine):
            print("seed: the store already has data; left as is (--if-empty)")
        else:
            counts = seed(engine)
            print(
                f"seed: {counts['products']} products, {counts['variants']} variants, "
                f"{counts['orders']} orders, {counts['returns']} returns"
            )
        if args.orders:
            first, last = add_synthetic_orders(engine, args.orders)
            print(f"seed: added synthetic orders {first}-{last}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
