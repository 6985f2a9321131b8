"""SQL tracker store whose cost per turn does not grow with the conversation.

Hilo's conversations never end, they pause: a customer writes for months in one thread. Stock
`SQLTrackerStore` reads every event of the current session on every message and the policies
re-featurize all of them, so a turn took 38 ms at 3 events and 1.7 s at 8,000 (see
`../shared/reference/rasa-3.6-notes.md` §4). It also finds the new events to store by counting
rows, which only works if the tracker holds every stored event.

`WindowedSQLTrackerStore` keeps Rasa's `events` table and row format (so Rasa's HTTP API,
`rasa export` and the desk read it unchanged) and changes how a tracker is rebuilt:

* Sessions up to `window` events long are read whole, exactly as in stock Rasa.
* Longer sessions are read as the **state** the older events left (latest value of each slot,
  the active loop, paused or not) plus the most recent `window` events, starting at a user
  message. Policies look at a few turns; custom actions that need the whole history read it
  with `retrieve_full_tracker`.
* Saving appends exactly the events added since the tracker was read, by position, instead of
  counting rows in the database.

Limitation: a turn undone by `UserUtteranceReverted`/`ActionReverted` *before* the window
keeps its slot values in the rebuilt state (stock Rasa would replay the revert). Hilo's
fallback does not revert turns, so this only matters for bots that use Rasa's default
two-stage fallback in very long sessions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from hilo.outages import is_outage

logger = logging.getLogger(__name__)

PERSISTED_MARK = "_hilo_persisted_events"
"""Tracker attribute: how many of its leading events are already in the database."""

_STATE_RESET_ALL = "restart"
_STATE_RESET_SLOTS = "reset_slots"
_INDEXES = {
    "ix_events_sender_id_id": "sender_id, id",
    "ix_events_sender_type_id": "sender_id, type_name, id",
}


class WindowedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that reads long sessions as state plus a window of recent events."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict | None = None,
        window: int = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            domain, dialect, host, port, db, username, password, event_broker, login_db, query
        )
        if int(window) < 20:
            raise ValueError("window must be at least 20 events (several turns)")
        self.window = int(window)
        # Told of each turn's saved events and the latest customer message (an event dict):
        # the reports' record (handoff/facts.py), installed by the handoff plugin. A listener
        # must not raise; the events are already saved.
        self.on_saved: Callable[[str, list[Any], dict[str, Any] | None], None] | None = None
        self._create_indexes()

    def _create_indexes(self) -> None:
        """Adds the indexes windowed reads need; idempotent, safe on existing databases.

        Plain DDL rather than `sa.Index` objects: those would attach themselves to Rasa's
        shared table metadata and make every stock store in the process re-create them.
        """
        with self.engine.begin() as connection:
            for name, columns in _INDEXES.items():
                connection.execute(
                    sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})")
                )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Rebuilds the tracker of the current session (windowed when it is long)."""
        events = self._session_events(sender_id)
        if not events or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, PERSISTED_MARK, len(tracker.events))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every event of every session (for the desk and the HTTP API)."""
        tracker = await super().retrieve_full_tracker(conversation_id)
        if tracker is not None:
            setattr(tracker, PERSISTED_MARK, len(tracker.events))
        return tracker

    def _session_events(self, sender_id: str) -> list[dict[str, Any]]:
        """Event dicts that rebuild the current session's tracker."""
        events_table = self.SQLEvent
        with self.session_scope() as session:
            session_start = session.execute(
                sa.select(sa.func.max(events_table.timestamp)).where(
                    events_table.sender_id == sender_id,
                    events_table.type_name == SessionStarted.type_name,
                )
            ).scalar()
            in_session = [events_table.sender_id == sender_id]
            if session_start is not None:
                # Same session boundary as stock Rasa (timestamp, not id): the
                # `action_session_start` event is stored before `session_started` but
                # carries a later timestamp, and belongs to the new session.
                in_session.append(events_table.timestamp >= session_start)

            newest_first = session.execute(
                sa.select(events_table.id, events_table.type_name, events_table.data)
                .where(*in_session)
                .order_by(events_table.id.desc())
                .limit(self.window + 1)
            ).all()
            if len(newest_first) <= self.window:
                return [json.loads(row.data) for row in reversed(newest_first)]

            tail = list(reversed(newest_first[: self.window]))
            first_user = next((i for i, row in enumerate(tail) if row.type_name == "user"), 0)
            tail = tail[first_user:]
            state = self._state_before(session, in_session, tail[0].id)
            return [json.loads(data) for data in state] + [json.loads(row.data) for row in tail]

    def _state_before(
        self, session: sa.orm.Session, in_session: list[Any], before_id: int
    ) -> list[str]:
        """Serialized events that recreate the state left by the session's events < before_id.

        That is the session's opening events (up to `session_started`), the latest `slot`
        event per slot, the latest `active_loop` event and the latest pause or resume, each
        counted only after the last restart (or, for slots, the last slot reset).
        """
        events_table = self.SQLEvent
        head = [*in_session, events_table.id < before_id]

        def last_id_of(*types: str) -> int:
            found = session.execute(
                sa.select(sa.func.max(events_table.id)).where(
                    *head, events_table.type_name.in_(types)
                )
            ).scalar()
            return int(found or 0)

        session_started_id = last_id_of(SessionStarted.type_name)
        restart_id = last_id_of(_STATE_RESET_ALL)
        slots_reset_id = max(restart_id, last_id_of(_STATE_RESET_SLOTS))
        latest_slot_ids = session.execute(
            sa.select(sa.func.max(events_table.id))
            .where(*head, events_table.type_name == "slot", events_table.id > slots_reset_id)
            .group_by(events_table.action_name)
        ).scalars()
        state_ids = {*latest_slot_ids, last_id_of("active_loop"), last_id_of("pause", "resume")}
        wanted = sa.or_(
            events_table.id <= session_started_id,
            events_table.id.in_([i for i in state_ids if i and i > restart_id]),
        )
        return list(
            session.execute(
                sa.select(events_table.data).where(*head, wanted).order_by(events_table.id)
            ).scalars()
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events added since the tracker was read (or all, for a new one)."""
        persisted = getattr(tracker, PERSISTED_MARK, None)
        if persisted is None:
            # A tracker this store did not read (e.g. replaced through the HTTP API):
            # fall back to Rasa's row counting.
            await super().save(tracker)
        else:
            new_events = list(tracker.events)[persisted:]
            if self.event_broker is not None:
                await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
            self._append(tracker.sender_id, new_events)
            if self.on_saved is not None and new_events:
                latest = tracker.latest_message
                self.on_saved(tracker.sender_id, new_events, latest.as_dict() if latest else None)
        setattr(tracker, PERSISTED_MARK, len(tracker.events))

    def _append(self, sender_id: str, events: list[Any]) -> None:
        """Inserts events in Rasa's row format."""
        if not events:
            return
        with self.session_scope() as session:
            for event in events:
                data = event.as_dict()
                intent = data.get("parse_data", {}).get("intent", {}).get("name")
                session.add(
                    self.SQLEvent(
                        sender_id=sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()


class OutageAwareTrackerStore(FailSafeTrackerStore):
    """Rasa's fail-safe wrapper, except that a database outage is raised, not hidden.

    Rasa wraps every agent's tracker store in `FailSafeTrackerStore`, which answers a failed
    read with "no tracker" and saves a failed write into memory. With PostgreSQL restarting,
    a turn then ran on an empty conversation (its context gone) and its events were kept only
    in that process (seen in bench/cluster.py's fault run). Hilo's channels core retries a
    turn that meets an outage (hilo/outages.py), so the outage is raised to it; any other
    error keeps Rasa's behaviour.
    """

    def on_tracker_store_error(self, error: Exception) -> None:
        """Raises an outage (to the turn, which waits for the database); logs the rest."""
        if is_outage(error):
            raise error
        super().on_tracker_store_error(error)

    def on_tracker_store_retrieve_error(self, error: Exception) -> None:
        """Raises an outage instead of answering "no such conversation"."""
        if is_outage(error):
            raise error
        super().on_tracker_store_retrieve_error(error)


def install_outage_aware_wrapper() -> None:
    """Makes every Rasa agent of this process wrap its tracker store in the class above."""
    import rasa.core.agent

    rasa.core.agent.FailSafeTrackerStore = OutageAwareTrackerStore
