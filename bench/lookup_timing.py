"""Does refusing an order take longer when it exists? Unknown vs somebody else's, timed.

    python -m bench.lookup_timing [--rounds 2000]

A stranger's proof (an email, 4 digits) is refused the same way, with the same words, for
an order that does not exist and for somebody else's. The review found the time differed:
the lookup loaded a real order with its items, and an unknown one after a single query. This
times the check a stranger's proof goes through, both ways, interleaved so that the machine's
noise falls on both alike:

- `before`: what the lookup did until issue 11 (get_order, then compare the contacts);
- `now`: actions/orders/lookup.py `contacts_of` (one query either way) and the comparison.

On a seeded temporary SQLite store. Prints JSON; docs/benchmarks.md has the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from actions.commerce.backend import OrderNotFound
from actions.commerce.database import make_engine, migrate
from actions.commerce.seed import seed
from actions.commerce.sql import SqlCommerceBackend
from actions.commerce.verification import contact_matches
from actions.orders import common, lookup

FOREIGN, UNKNOWN = "10002", "99999"
PROOF = {"email": "stranger@example.com"}


def _before(store: SqlCommerceBackend, number: str) -> bool:
    try:
        order = store.get_order(number)
    except OrderNotFound:
        return False
    return contact_matches(order, **PROOF)


def _now(number: str) -> bool:
    contacts, exists = lookup.contacts_of(number)
    return contact_matches(contacts, **PROOF) and exists


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_us": round(statistics.median(ordered), 1),
        "p90_us": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "mean_us": round(statistics.fmean(ordered), 1),
    }


def _compare(check: Callable[[str], bool], rounds: int) -> dict[str, object]:
    times: dict[str, list[float]] = {FOREIGN: [], UNKNOWN: []}
    for _ in range(rounds):
        for number in (FOREIGN, UNKNOWN):
            started = time.perf_counter()
            check(number)
            times[number].append((time.perf_counter() - started) * 1e6)
    foreign, unknown = _summary(times[FOREIGN]), _summary(times[UNKNOWN])
    return {
        "somebody_elses": foreign,
        "unknown": unknown,
        "p50_difference_us": round(foreign["p50_us"] - unknown["p50_us"], 1),
        "p50_ratio": round(foreign["p50_us"] / unknown["p50_us"], 3),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Times both paths and prints the comparison as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'commerce.db'}"
        migrate(url)
        engine = make_engine(url)
        seed(engine)
        store = SqlCommerceBackend(engine)
        os.environ["DATABASE_URL"] = url  # the lookup's own store() opens this run's database
        common.store.cache_clear()
        for number in (FOREIGN, UNKNOWN):  # warm up
            _before(store, number)
            _now(number)
        report = {
            "rounds": arguments.rounds,
            "before": _compare(lambda number: _before(store, number), arguments.rounds),
            "now": _compare(_now, arguments.rounds),
        }
        engine.dispose()
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
