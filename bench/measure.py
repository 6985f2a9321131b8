"""In-process measurements of one bot (Hilo or stock Rasa), run in its own process.

    python -m bench.measure --system hilo|stock --model PATH --actions URL --db PATH

Prints one JSON object: import and model load time, RSS after load and at the end (peak),
NLU parse latency, full-turn latency (NLU, policies, action server, NLG, SQLite tracker
store), and turn latency in conversations that already hold 10, 1,000 and 10,000 events.
A separate process per system keeps the memory figures honest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "bench" / "data" / "blind_eval.yml"
CONVERSATION = [
    "hola buenas",
    "cuanto cuesta el envio a monterrey?",
    "y en cuantos dias llega?",
    "aceptan pago en oxxo?",
    "what is your return policy",
    "ok thanks",
    "quiero hablar con una persona",
    "gracias, bye",
]


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50 and p99 of latency samples in milliseconds."""
    return {
        "p50": float(np.percentile(samples_ms, 50)),
        "p99": float(np.percentile(samples_ms, 99)),
        "n": len(samples_ms),
    }


def history(sender: str, size: int) -> list[Any]:
    """A conversation of about `size` events, shaped like real turns (user, slot, bot)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    started = SessionStarted()
    events: list[Any] = [ActionExecuted("action_session_start"), started]
    events.append(ActionExecuted("action_listen"))
    turn = 0
    while len(events) < size:
        turn += 1
        events += [
            UserUttered(f"mensaje {turn}", intent={"name": "faq", "confidence": 1.0}),
            SlotSet("language", "es" if turn % 7 else "en"),
            ActionExecuted("utter_faq"),
            BotUttered("respuesta"),
            ActionExecuted("action_listen"),
        ]
    return events[:size]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Runs every in-process measurement for one system."""
    started = time.perf_counter()
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.ERROR)
    imported = time.perf_counter()

    if args.system == "hilo":
        from components.tracker_store import WindowedSQLTrackerStore

        store: SQLTrackerStore = WindowedSQLTrackerStore(db=args.db)
        nlg = EndpointConfig(type="components.nlg.HiloNLG")
    else:
        store, nlg = SQLTrackerStore(db=args.db), None
    agent = Agent.load(
        args.model,
        action_endpoint=EndpointConfig(args.actions),
        generator=nlg,
        tracker_store=store,
    )
    loaded = time.perf_counter()
    result: dict[str, Any] = {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "rss_after_load_mb": rss_mb(),
    }

    texts = [e.get("text") for e in load_data(str(MESSAGES)).nlu_examples]
    await agent.parse_message(texts[0])  # first call traces the prediction graphs
    parse_ms = []
    for text in texts:
        t0 = time.perf_counter()
        await agent.parse_message(text)
        parse_ms.append((time.perf_counter() - t0) * 1000)
    result["parse_ms"] = percentiles(parse_ms)

    turn_ms = []
    for _ in range(args.conversations):
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        for text in CONVERSATION:
            t0 = time.perf_counter()
            await agent.handle_text(text, sender_id=sender)
            turn_ms.append((time.perf_counter() - t0) * 1000)
    result["turn_ms"] = percentiles(turn_ms)

    result["turn_ms_by_history"] = {}
    for size in args.history_sizes:
        sender = f"long-{size}-{uuid.uuid4().hex[:8]}"
        tracker = DialogueStateTracker.from_events(
            sender, history(sender, size), agent.domain.slots
        )
        await SQLTrackerStore.save(agent.tracker_store._tracker_store, tracker)
        samples = []
        for text in CONVERSATION[1:6] * 2:
            t0 = time.perf_counter()
            await agent.handle_text(text, sender_id=sender)
            samples.append((time.perf_counter() - t0) * 1000)
        result["turn_ms_by_history"][str(size)] = percentiles(samples)

    result["rss_end_mb"] = rss_mb()
    result["rss_peak_mb"] = rss_mb("VmHWM")
    return result


def main() -> None:
    """Command line entry point; prints the measurements as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=["hilo", "stock"], required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--actions", required=True, help="action server webhook URL")
    parser.add_argument("--db", required=True, help="SQLite file for the tracker store")
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--history-sizes", type=int, nargs="*", default=[10, 1_000, 10_000])
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args))))


if __name__ == "__main__":
    main()
