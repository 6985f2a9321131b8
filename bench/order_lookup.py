"""Order lookup latency at scale: get_order and orders_for_contact on N orders.

    python -m bench.order_lookup [--orders 100000] [--lookups 2000] [--url URL]

Seeds a fresh database (a temporary SQLite file by default; with --url, THAT DATABASE'S
COMMERCE DATA IS REPLACED) with the demo store plus N synthetic orders, then times random
lookups through `SqlCommerceBackend`, as the bot makes them (session, query, building the
views). Prints a summary to stderr and JSON to stdout, including the query plans of the exact
statements the lookups ran (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`), to show they
use indexes. Target: p99 <= 20 ms at 100,000 orders.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from actions.commerce.database import make_engine, migrate
from actions.commerce.models import Order
from actions.commerce.seed import add_synthetic_orders, seed
from actions.commerce.sql import SqlCommerceBackend

TARGET_P99_MS = 20.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def _time(calls: list[Callable[[], Any]]) -> dict[str, float]:
    latencies = []
    for call in calls:
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "count": len(latencies),
        "mean_ms": round(statistics.fmean(latencies), 3),
        "p50_ms": round(_percentile(latencies, 0.50), 3),
        "p99_ms": round(_percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies), 3),
    }


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Records the SQL statements (with parameters) run on `engine` inside the block."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    if engine.dialect.name == "sqlite":
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]


def _plans(engine: Engine, call: Callable[[], Any]) -> list[dict[str, Any]]:
    with _captured(engine) as statements:
        call()
    return [
        {"sql": " ".join(statement.split()), "plan": _explain(engine, statement, parameters)}
        for statement, parameters in statements
    ]


def run(url: str, orders: int, lookups: int, seed_value: int = 1) -> dict[str, Any]:
    """Seeds `url` with the demo store plus `orders` synthetic orders and times lookups."""
    started = time.perf_counter()
    migrate(url)
    engine = make_engine(url)
    try:
        seed(engine)
        if orders:
            add_synthetic_orders(engine, orders)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        seeding_s = time.perf_counter() - started
        with engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(Order)).scalar_one()
            numbers = [row[0] for row in connection.execute(select(Order.number))]
            phones = sorted({row[0] for row in connection.execute(select(Order.phone))})

        backend = SqlCommerceBackend(engine)
        rng = random.Random(seed_value)
        # Warm up the pool and the statement caches, as a running action server would be.
        for number in rng.sample(numbers, min(50, len(numbers))):
            backend.get_order(number)
        for phone in rng.sample(phones, min(50, len(phones))):
            backend.orders_for_contact(phone=phone)

        order_calls = [
            (lambda n=number: backend.get_order(n))
            for number in (rng.choice(numbers) for _ in range(lookups))
        ]
        # WhatsApp spelling ("52155..." without "+") for Mexican numbers: the backend must
        # normalize it, as it will in production.
        contact_calls = [
            (lambda p=phone: backend.orders_for_contact(phone=p))
            for phone in (
                rng.choice(phones).replace("+52", "521", 1).lstrip("+") for _ in range(lookups)
            )
        ]
        miss_calls = [
            (lambda n=str(number): _missing(backend, n))
            for number in rng.sample(range(900_000_000, 999_999_999), lookups)
        ]
        queries = ["zapatilla urbana", "sapatillas urbanas", "chaqueta impermeable", "tenis",
                   "camiseta basica", "playeras estampadas", "hoodie", "xyzzy qwerty"]  # fmt: skip
        search_calls = [
            (lambda q=query: backend.find_products(q))
            for query in (rng.choice(queries) for _ in range(min(lookups, 500)))
        ]
        result = {
            "backend": engine.dialect.name,
            "orders": total,
            "distinct_phones": len(phones),
            "seeding_s": round(seeding_s, 1),
            "get_order": _time(order_calls),
            "get_order_not_found": _time(miss_calls),
            "orders_for_contact_phone": _time(contact_calls),
            "find_products": _time(search_calls),
            "target_p99_ms": TARGET_P99_MS,
            "plans": {
                "get_order": _plans(engine, lambda: backend.get_order(numbers[0])),
                "orders_for_contact_phone": _plans(
                    engine, lambda: backend.orders_for_contact(phone=phones[0])
                ),
            },
        }
        p99s = [
            result[key]["p99_ms"]
            for key in ("get_order", "get_order_not_found", "orders_for_contact_phone")
        ]
        result["meets_target"] = max(p99s) <= TARGET_P99_MS
        return result
    finally:
        engine.dispose()


def _missing(backend: SqlCommerceBackend, number: str) -> None:
    try:
        backend.get_order(number)
    except LookupError:
        return
    raise AssertionError(f"order {number} should not exist")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.order_lookup", description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000, help="synthetic orders to add")
    parser.add_argument("--lookups", type=int, default=2_000, help="timed lookups per kind")
    parser.add_argument(
        "--url", help="database to use; its commerce data is REPLACED (default: temp SQLite)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hilo-bench-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'commerce.db'}"
        result = run(url, args.orders, args.lookups)
    for key in ("get_order", "get_order_not_found", "orders_for_contact_phone", "find_products"):
        stats = result[key]
        print(
            f"{result['backend']:>10} {key:<26} p50 {stats['p50_ms']:7.3f} ms"
            f"  p99 {stats['p99_ms']:7.3f} ms  ({result['orders']} orders)",
            file=sys.stderr,
        )
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
