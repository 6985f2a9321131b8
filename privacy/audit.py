"""The record of every privacy request answered: who, when, why, what kinds of data, how many.

One row per erasure or export (and "retain", for privacy/retention.py) in the handoff
database's `handoff_privacy_audit` (migration 0004): the actor, the reason they gave, a keyed
pseudonym of the person (`Request.ref`, never their phone or email) and the number of
records of each kind per store. The record must outlive the data it speaks of, so it holds
none: phone numbers and email addresses typed into the reason are masked before it is
written (hilo/log_privacy.py `redact`), and the counts are numbers only.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.database import reader
from handoff.models import privacy_audit
from hilo.log_privacy import redact

MAX_ACTOR = 120
MAX_REASON = 2000
ACTIONS = ("erase", "export", "retain")


def record(
    engine: Engine,
    *,
    action: str,
    actor: str,
    reason: str,
    subject_ref: str,
    counts: dict[str, dict[str, int]],
    at: float | None = None,
) -> int:
    """Writes one audit row; its id.

    Args:
        engine: The handoff database (migrated to 0004 or later).
        action: "erase", "export" or "retain".
        actor: Who answered ("desk:ana", "cli:root").
        reason: Why (the request's reference, the law): phones and emails in it are masked.
        subject_ref: The person's keyed pseudonym (`Request.ref`).
        counts: {store: {kind of record: how many}}.
        at: When (default: now).
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    numbers = {
        str(store): {str(kind): int(count) for kind, count in kinds.items()}
        for store, kinds in counts.items()
    }
    with engine.begin() as connection:
        return int(
            connection.execute(
                privacy_audit.insert().values(
                    at=time.time() if at is None else at,
                    action=action,
                    actor=redact(actor)[:MAX_ACTOR],
                    reason=redact(reason)[:MAX_REASON],
                    subject_ref=subject_ref[:64],
                    counts=json.dumps(numbers, sort_keys=True),
                )
            ).inserted_primary_key[0]
        )


def entries(engine: Engine, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest audit rows, newest first."""
    query = sa.select(privacy_audit).order_by(privacy_audit.c.id.desc()).limit(limit)
    with reader(engine).connect() as connection:
        return [
            {
                "id": int(row.id),
                "at": float(row.at),
                "action": row.action,
                "actor": row.actor,
                "reason": row.reason,
                "subject_ref": row.subject_ref,
                "counts": json.loads(row.counts or "{}"),
            }
            for row in connection.execute(query)
        ]
