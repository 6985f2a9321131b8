"""`make bench-facts`: what the reports' record (handoff/facts.py) adds to every turn.

The Rasa server's tracker store hands each saved turn's events to `Facts.record_events`
(handoff/plugin.py `record_facts`), on the bot's thread, before the next turn: its time is
added to every answer. This replays typical turns through it on the default SQLite handoff
database and on PostgreSQL, with the record already holding earlier turns:

- a customer message answered by the bot (a user event with its parse data, slots, the
  bot's message): the common turn;
- the first message after 24 h of quiet (a new contact, and the old one told when it ended);
- a message the bot did not understand (a training candidate too).

Each kind `--turns` times over `--conversations` conversations, one after another. Writes
docs/facts-benchmark.md and bench/results/facts-<time>.json. Compare with the turn itself
(docs/benchmarks.md, full turn p50 in process).

    python -m bench.facts [--turns 2000] [--conversations 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.channels import machine
from bench.results_file import save
from handoff.database import make_engine, migrate
from handoff.facts import Facts
from tests.support.databases import postgres_schema

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "facts-benchmark.md"
DAY = 86400.0


def answered(at: float) -> list[dict[str, Any]]:
    """A customer asks for an order's status and the bot answers (the events Rasa saves)."""
    return [
        {
            "event": "user",
            "timestamp": at,
            "text": "donde esta mi pedido 10001",
            "input_channel": "twilio",
            "parse_data": {
                "intent": {"name": "order_status", "confidence": 0.97},
                "entities": [{"entity": "order_id", "value": "10001"}],
                "language": "es",
            },
        },
        {"event": "user_featurization", "timestamp": at},
        {"event": "action", "name": "order_status_form", "timestamp": at + 0.01},
        {"event": "slot", "name": "order_id", "value": "10001", "timestamp": at + 0.01},
        {"event": "bot", "text": "Tu pedido va en camino", "timestamp": at + 0.02},
        {"event": "action", "name": "action_listen", "timestamp": at + 0.02},
    ]


def not_understood(at: float) -> list[dict[str, Any]]:
    """A message the bot could not place: a fallback, kept as a training candidate."""
    events = answered(at)
    events[0] = {
        **events[0],
        "text": "oiga y lo del reembolso q onda",
        "parse_data": {
            "intent": {"name": "nlu_fallback", "confidence": 0.31},
            "entities": [],
            "language": "es",
            "intent_ranking": [{"name": "return_request", "confidence": 0.31}],
        },
    }
    return events


def run(facts: Facts, turns: int, conversations: int) -> dict[str, dict[str, float]]:
    """Milliseconds per turn, by kind; the record holds `conversations` warm ones first."""
    start = time.time() - 30 * DAY
    ids = [f"twilio:whatsapp:+52155{n:08d}" for n in range(conversations)]
    for n, conversation in enumerate(ids):  # history: one contact each, a month ago
        facts.record_events(conversation, answered(start + n))
    kinds: dict[str, Callable[[int], tuple[str, list[dict[str, Any]]]]] = {
        # Half a day after the history, then minutes apart: the same contact goes on.
        "answered": lambda n: (ids[n % conversations], answered(start + DAY / 2 + n * 60.0)),
        # A day after the last one: a new contact.
        "new contact after 24 h": lambda n: (
            ids[n % conversations],
            answered(start + (2 + n // conversations) * 2 * DAY + n),
        ),
        "not understood": lambda n: (ids[n % conversations], not_understood(time.time() + n)),
    }
    timings = {}
    for kind, make in kinds.items():
        spent = []
        for n in range(turns):
            conversation, events = make(n)
            began = time.perf_counter()
            facts.record_events(conversation, events)
            spent.append((time.perf_counter() - began) * 1000)
        values = np.asarray(spent)
        timings[kind] = {
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2),
        }
    if facts.lost:
        raise RuntimeError(f"{facts.lost} turns were not recorded")
    return timings


def measure(url: str, turns: int, conversations: int) -> dict[str, dict[str, float]]:
    migrate(url)
    engine = make_engine(url)
    try:
        return run(Facts(engine), turns, conversations)
    finally:
        engine.dispose()


def write_report(result: dict[str, Any]) -> None:
    rows = "\n".join(
        f"| {database} | {kind} | {t['p50_ms']} ms | {t['p99_ms']} ms | {t['max_ms']} ms |"
        for database, kinds in result["databases"].items()
        for kind, t in kinds.items()
    )
    REPORT.write_text(
        f"""# What the reports' record adds to a turn

Written by `make bench-facts` (bench/facts.py); do not edit by hand.

- Run: {result["run"]} (UTC)
- Machine: {result["machine"]}
- {result["turns"]:,} turns of each kind over {result["conversations"]} conversations, one
  after another, on the bot's thread as the tracker store calls it

`Facts.record_events` per turn: the facts of the turn's messages, the contact rollup, and
the training candidate of a message the bot did not understand, in one transaction.

| Database | Turn | p50 | p99 | max |
|---|---|---|---|---|
{rows}

The SQLite handoff database is in WAL mode (hilo/database.py) with SQLite's default
`synchronous=FULL`: each turn's commit waits for the disk.
"""
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HILO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "run": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ"),
        "machine": machine(),
        "turns": args.turns,
        "conversations": args.conversations,
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="hilo-bench-facts-") as directory:
        url = f"sqlite:///{Path(directory) / 'handoff.db'}"
        result["databases"]["SQLite"] = measure(url, args.turns, args.conversations)
    with postgres_schema("hilo_bench_facts", args.postgres) as url:
        result["databases"]["PostgreSQL"] = measure(url, args.turns, args.conversations)
    save("facts", result)
    write_report(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
