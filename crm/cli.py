"""`hilo webhooks status|replay|run` and `hilo export` (wired in handoff/cli.py).

hilo webhooks status                  deliveries by state and event; the failed ones
                                      with their last error (no personal data)
hilo webhooks replay --failed         send every failed delivery again
hilo webhooks replay --id ID [--id …] send these again (same body and delivery id)
hilo webhooks run [--once]            the worker in the foreground (no desk needed)
hilo export --since 2026-12-01 --format jsonl [--output FILE]
                                      messages, cases and CSAT as JSON lines
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crm.settings import SettingsError, WebhookSettings

if TYPE_CHECKING:
    from crm.outbox import Outbox


def add_webhooks_arguments(parser: argparse.ArgumentParser) -> None:
    """`hilo webhooks …`."""
    commands = parser.add_subparsers(dest="webhooks_command", required=True)
    commands.add_parser("status", help="deliveries by state; failed ones with their last error")
    replay = commands.add_parser("replay", help="send failed (or chosen) deliveries again")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--failed", action="store_true", help="every failed delivery")
    which.add_argument("--id", type=int, action="append", dest="ids", help="a delivery's id")
    run = commands.add_parser("run", help="the delivery worker in the foreground")
    run.add_argument("--once", action="store_true", help="one pass, then exit")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """`hilo export …`."""
    parser.add_argument("--since", required=True, help="ISO date or time (UTC unless given)")
    parser.add_argument("--format", choices=["jsonl"], default="jsonl")
    parser.add_argument("--output", help="file to write (default: standard output)")


def run_webhooks(args: argparse.Namespace, engine: Any = None, channels: Any = None) -> int:
    """Runs `hilo webhooks …` on the handoff database `engine` (default: the deployment's)."""
    # Loaded on use: `hilo users …` and the rest need none of this.
    from crm.delivery import Worker
    from crm.outbox import Outbox
    from handoff.database import make_engine

    engine = engine or make_engine()
    if args.webhooks_command == "status":
        return _status(Outbox(engine))
    if args.webhooks_command == "replay":
        count = Outbox(engine).replay(ids=args.ids or (), failed=args.failed)
        print(f"hilo: {count} deliveries will be sent again")
        return 0
    try:
        settings = WebhookSettings.from_environment()
    except SettingsError as error:
        print(f"hilo: {error}", file=sys.stderr)
        return 2
    if not settings.enabled:
        print("hilo: HILO_WEBHOOK_URL is not set: nothing to send to", file=sys.stderr)
        return 2
    if channels is None:
        from connectors.storage import make_engine as channels_engine

        channels = channels_engine()
    worker = Worker(engine, channels, settings)
    try:
        if args.once:
            done = worker.run_once()
            print(
                f"hilo: {done.added} added, {done.sent} sent, {done.retried} to retry, "
                f"{done.failed} failed"
            )
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print(f"hilo: sending to {_where(settings.url or '')} (Ctrl-C stops)", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            worker.run_forever(stop)
        return 0
    finally:
        worker.close()


def run_export(args: argparse.Namespace, engine: Any = None, channels: Any = None) -> int:
    """Runs `hilo export …`."""
    from crm.export import parse_since, write_jsonl

    try:
        since = parse_since(args.since)
    except ValueError as error:
        print(f"hilo: --since: {error}", file=sys.stderr)
        return 2
    from handoff.database import make_engine

    engine = engine or make_engine()
    if channels is None:
        from connectors.storage import make_engine as channels_engine

        channels = channels_engine()
    if args.output:
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as out:  # customers' data: owner only
            counts = write_jsonl(engine, channels, since, out)
    else:
        counts = write_jsonl(engine, channels, since, sys.stdout)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"hilo: exported {summary}", file=sys.stderr)
    return 0


def _status(outbox: Outbox) -> int:
    from crm.outbox import STATES

    counts = outbox.counts()
    try:
        settings: WebhookSettings | None = WebhookSettings.from_environment()
    except SettingsError:
        settings = None
    target = _where(settings.url) if settings and settings.url else "not set"
    print(f"hilo webhooks: HILO_WEBHOOK_URL {target}")
    for state in STATES:
        events = counts.get(state, {})
        total = sum(events.values())
        detail = ", ".join(f"{event} {n}" for event, n in sorted(events.items()))
        print(f"  {state:<10} {total:>7}" + (f"   ({detail})" if detail else ""))
    oldest = outbox.oldest_pending()
    if oldest is not None:
        print(f"  oldest pending since {_when(oldest)}")
    failures = outbox.failures()
    if failures:
        print("failed (hilo webhooks replay --failed, or --id ID):")
        for item in failures:
            print(
                f"  {item.id:>7}  {item.event:<22} made {_when(item.created_at)}  "
                f"attempts {item.attempts}  last error: {item.last_error or '-'}"
            )
    return 1 if failures else 0


def _where(url: str) -> str:
    """The CRM's scheme and host only (a path or query may hold a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
