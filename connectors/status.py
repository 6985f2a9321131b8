"""`make channels-status`: what the channels hold, and every message that could not be sent.

Reads the channels database (`CHANNELS_DATABASE_URL`, default var/channels.db) and prints the
inbox by status, the outbound messages by status and the latest failures with the provider's
error code and message. Customers are shown by pseudonym only (no phone numbers).

    python -m connectors.status [--limit 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from connectors.adapter import sender_ref
from connectors.inbox import Inbox
from connectors.outbox import Outbox
from connectors.storage import inbound, make_engine, outbound


def snapshot(limit: int = 20) -> dict[str, Any]:
    """Counts and the latest failures, JSON-ready."""
    engine = make_engine()
    with engine.connect() as connection:
        outbound_counts = dict(
            connection.execute(
                sa.select(outbound.c.status, sa.func.count()).group_by(outbound.c.status)
            ).all()
        )
        failed_inbound = connection.execute(
            sa.select(inbound.c.channel, inbound.c.conversation_id, inbound.c.error)
            .where(inbound.c.status == "failed")
            .order_by(inbound.c.id.desc())
            .limit(limit)
        ).all()
    failures = Outbox(engine).failures(limit=limit)
    return {
        "inbox": Inbox(engine).counts(),
        "outbound": {str(k): int(v) for k, v in outbound_counts.items()},
        "failed_sends": [
            {
                "at": datetime.fromtimestamp(record.created_at, timezone.utc).isoformat(),
                "channel": record.channel,
                "customer": sender_ref(record.conversation_id),
                "kind": record.kind,
                "source": record.source,
                "error_code": record.error_code,
                "error": record.error_message,
            }
            for record in failures
        ],
        "failed_messages": [
            {
                "channel": row.channel,
                "customer": sender_ref(row.conversation_id),
                "error": row.error,
            }
            for row in failed_inbound
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Prints the snapshot as text (default) or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = snapshot(args.limit)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print("inbox:", ", ".join(f"{k} {v}" for k, v in sorted(data["inbox"].items())) or "empty")
    print("sent:", ", ".join(f"{k} {v}" for k, v in sorted(data["outbound"].items())) or "none")
    print(f"\nlatest failed sends ({len(data['failed_sends'])}):")
    for row in data["failed_sends"]:
        print(
            f"  {row['at']}  {row['channel']:<9} {row['customer']}  {row['source']:<6} "
            f"{row['kind']:<8} {row['error_code']}: {row['error']}"
        )
    print(f"\nlatest messages the bot could not process ({len(data['failed_messages'])}):")
    for row in data["failed_messages"]:
        print(f"  {row['channel']:<9} {row['customer']}  {row['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
