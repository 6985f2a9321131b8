"""How far the feed has read a source table, by increasing id, without skipping a late commit.

Ids are handed out when a row is inserted, not when its transaction commits: on PostgreSQL
a row with id 41 can appear after 42 was read. A plain "last id" cursor would skip it
forever. So the cursor keeps, next to the last id read, the ids below it not seen yet (its
gaps) with when each was first missed, and reads them again until they appear or are older
than `GAP_SECONDS` (an insert rolled back leaves a gap that never fills). The cursor is
saved in the transaction that records what was read, so a restart resumes exactly there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff.models import webhook_cursors

GAP_SECONDS = 300.0  # far longer than any transaction between taking an id and committing
MAX_GAPS = 1000


@dataclass
class Cursor:
    """A source's position: the last id read and the ids below it still missing."""

    name: str
    position: int
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when first missed

    def condition(self, column: sa.Column) -> sa.sql.ColumnElement:
        """The rows still to read: after the position, or in a gap."""
        after = column > self.position
        if not self.gaps:
            return after
        return sa.or_(after, column.in_(sorted(self.gaps)))

    def advance(self, seen: Iterable[int], now: float) -> None:
        """Records the ids just read; what was skipped below the new position is a gap."""
        ids = set(seen)
        for found in ids:
            self.gaps.pop(found, None)
        top = max(ids, default=self.position)
        if top > self.position:
            for missing in range(self.position + 1, top):
                if missing not in ids:
                    self.gaps.setdefault(missing, now)
            self.position = top
        self.gaps = {gap: since for gap, since in self.gaps.items() if now - since < GAP_SECONDS}
        if len(self.gaps) > MAX_GAPS:
            kept = sorted(self.gaps)[-MAX_GAPS:]
            self.gaps = {gap: self.gaps[gap] for gap in kept}


def load(connection: Connection, name: str, start: Callable[[], int], now: float) -> Cursor:
    """The cursor `name`, locked for this transaction; new ones start at `start()`.

    On PostgreSQL the row is locked (`FOR UPDATE`), so two feeds (two desks) read a source
    one after the other, never the same rows at once; SQLite's writers are serialized.
    """
    query = sa.select(webhook_cursors).where(webhook_cursors.c.name == name)
    row = connection.execute(query.with_for_update()).first()
    if row is None:
        cursor = Cursor(name, int(start()))
        connection.execute(
            _insert_ignored(connection).values(
                name=name, position=cursor.position, gaps="{}", updated_at=now
            )
        )
        row = connection.execute(query.with_for_update()).first()
        if row is None:  # pragma: no cover - the row was just written
            return cursor
    gaps = {int(key): float(value) for key, value in json.loads(row.gaps or "{}").items()}
    return Cursor(name, int(row.position), gaps)


def save(connection: Connection, cursor: Cursor, now: float) -> None:
    """Stores the cursor (in the caller's transaction)."""
    connection.execute(
        webhook_cursors.update()
        .where(webhook_cursors.c.name == cursor.name)
        .values(
            position=cursor.position,
            gaps=json.dumps({str(key): value for key, value in sorted(cursor.gaps.items())}),
            updated_at=now,
        )
    )


def _insert_ignored(connection: Connection) -> sa.sql.Insert:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(webhook_cursors).on_conflict_do_nothing(index_elements=["name"])
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(webhook_cursors).on_conflict_do_nothing(index_elements=["name"])
