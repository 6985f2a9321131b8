"""Source records → deliveries: the case audit log, the channels' inbox and their profiles.

Each run reads what is new since the last one and adds one delivery per source record to
the outbox (crm/outbox.py), in the transaction that moves the source's cursor
(crm/cursors.py); a delivery's key names its source record, so reading a record twice (a
crash before the commit, two desks) never makes a second delivery, and a cursor never moves
past a record it did not turn into one.

- `handoff_case_events`, by id: `opened` → `case.opened`; `status` to `assigned` (a claim,
  "take next", auto-assignment) or `transferred` to an agent while assigned →
  `case.assigned`; `status` to `resolved` or `closed` → `case.resolved`; from `closed` to
  `queued` (the customer wrote to a closed case) → `case.reopened`; `csat_answered`
  and `csat_commented` (a comment after the score) → `csat.received`.
- the channels' inbox, by id: a customer's message marks its conversation
  (`handoff_webhook_conversations`): its profile is checked once the channels have linked
  it (`contact.updated` when the identities linked to the profile, its phone or a name
  changed: the key is a digest of them), and its quiet period starts again.
- `handoff_webhook_conversations`: quiet for HILO_SUMMARY_QUIET_MINUTES →
  `conversation.summary` (the messages since the previous one).

Feeds start where the sources are when they first run: history is for `hilo export`.
Nothing here logs a conversation id, a name or a text; counts only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from connectors.history import History
from connectors.storage import conversations as channel_conversations
from connectors.storage import inbound, profiles
from crm import cursors, events
from crm.outbox import NewDelivery, Outbox
from crm.settings import WebhookSettings
from handoff.models import agents, case_events, cases
from handoff.models import webhook_conversations as followed
from handoff.personal_data import ERASED_PREFIX
from hilo.pseudonyms import pseudonym

logger = logging.getLogger(__name__)

BATCH = 500
CONTACT_WAIT_SECONDS = 15 * 60  # a message whose profile the channels never linked
SENDERS = {"bot": "bot", "agent": "agent", "handoff": "system", "system": "system"}


class Feed:
    """Turns new source records into deliveries; `run_once` is one pass over every source."""

    def __init__(
        self,
        engine: Engine,
        channels: Engine | None,
        settings: WebhookSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Reads `engine` (handoff) and `channels` (None: case events only)."""
        self.engine = engine
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.outbox = Outbox(engine, clock)
        self.history = History(channels) if channels is not None else None

    def run_once(self) -> int:
        """One pass over every source; returns how many deliveries were added."""
        made = self.case_events()
        if self.channels is not None:
            self.inbox()
            made += self.contacts()
            made += self.summaries()
        return made

    # --- the case audit log ---------------------------------------------------------------

    def case_events(self) -> int:
        """`case.*` and `csat.received` from `handoff_case_events`, by id."""
        now = self.clock()
        made = 0
        with self.engine.begin() as connection:

            def start() -> int:
                last = connection.execute(sa.select(sa.func.max(case_events.c.id))).scalar()
                return int(last or 0)

            cursor = cursors.load(connection, "case_events", start, now)
            rows = connection.execute(
                sa.select(case_events)
                .where(cursor.condition(case_events.c.id))
                .order_by(case_events.c.id)
                .limit(BATCH)
            ).all()
            items: list[NewDelivery] = []
            for row in rows:
                item = self._from_case_event(connection, row)
                if item is not None:
                    items.append(item)
            made = self.outbox.add(connection, items)
            cursor.advance([int(row.id) for row in rows], now)
            cursors.save(connection, cursor, now)
        if made:
            logger.info("crm.feed.case_events read=%d added=%d", len(rows), made)
        return made

    def _from_case_event(self, connection: Connection, row: Row) -> NewDelivery | None:
        detail = _object(row.detail)
        action = str(row.action)
        desk = self.settings.desk_url
        case = _case(connection, int(row.case_id))
        if case is None or str(case["conversation_id"]).startswith(ERASED_PREFIX):
            return None  # erased: nobody to tell the CRM about
        if action == "opened":
            event, data = events.CASE_OPENED, events.case_opened(case, desk)
        elif action == "status" and detail.get("to") == "assigned":
            assignee = _agent(connection, detail.get("assignee"))
            event = events.CASE_ASSIGNED
            data = events.case_assigned(case, desk, assignee, str(row.actor))
        elif action == "transferred" and detail.get("to") is not None:
            if _just_assigned(connection, row, detail["to"]):
                return None  # the move to `assigned` just before is this assignment
            assignee = _agent(connection, detail.get("to"))
            event = events.CASE_ASSIGNED
            data = events.case_assigned(case, desk, assignee, str(row.actor))
        elif action == "status" and (detail.get("from"), detail.get("to")) == ("closed", "queued"):
            event, data = events.CASE_REOPENED, events.case_reopened(case, desk)
        elif action == "status" and detail.get("to") in ("resolved", "closed"):
            event = events.CASE_RESOLVED
            data = events.case_resolved(case, desk, str(detail["to"]))
        elif action == "csat_answered" and isinstance(detail.get("score"), int):
            event, data = events.CSAT_RECEIVED, events.csat_received(case, desk, detail["score"])
        elif action == "csat_commented" and isinstance(case.get("csat_score"), int):
            # The comment comes after the score: the answer again, now with its comment.
            event = events.CSAT_RECEIVED
            data = events.csat_received(case, desk, int(case["csat_score"]))
        else:
            return None
        return NewDelivery(
            key=f"case_event:{int(row.id)}",
            event=event,
            occurred_at=float(row.at),
            data=data,
            case_id=int(row.case_id),
            conversation_id=str(case["conversation_id"]),
            profile_id=case.get("profile_id"),
        )

    # --- the channels' inbox ------------------------------------------------------------

    def inbox(self) -> int:
        """Notes the conversations customers wrote in since the last pass; returns how many."""
        if self.channels is None:
            return 0
        channels = self.channels
        now = self.clock()
        with self.engine.begin() as connection:

            def start() -> int:
                with channels.connect() as source:
                    return int(source.execute(sa.select(sa.func.max(inbound.c.id))).scalar() or 0)

            cursor = cursors.load(connection, "inbox", start, now)
            with channels.connect() as source:
                rows = source.execute(
                    sa.select(
                        inbound.c.id,
                        inbound.c.conversation_id,
                        inbound.c.channel,
                        inbound.c.sent_at,
                        inbound.c.received_at,
                    )
                    .where(cursor.condition(inbound.c.id))
                    .order_by(inbound.c.id)
                    .limit(BATCH)
                ).all()
            touched: dict[str, list[Row]] = {}
            for row in rows:
                touched.setdefault(str(row.conversation_id), []).append(row)
            for conversation_id, messages in touched.items():
                _follow(connection, conversation_id, messages)
            cursor.advance([int(row.id) for row in rows], now)
            cursors.save(connection, cursor, now)
        return len(touched)

    def contacts(self) -> int:
        """`contact.updated` for the profiles of conversations written in (when they changed)."""
        if self.channels is None:
            return 0
        now = self.clock()
        made = 0
        with self.engine.begin() as connection:
            due = connection.execute(
                sa.select(followed)
                .where(followed.c.contact_due_at.is_not(None))
                .order_by(followed.c.last_in_at)
                .limit(BATCH)
            ).all()
            items: list[NewDelivery] = []
            with self.channels.connect() as source:
                for row in due:
                    linked = source.execute(
                        sa.select(channel_conversations).where(
                            channel_conversations.c.conversation_id == row.conversation_id
                        )
                    ).first()
                    seen = linked is not None and (linked.last_inbound_at or 0) >= (
                        row.contact_due_at - 0.001
                    )
                    if not seen and now - row.last_in_at < CONTACT_WAIT_SECONDS:
                        continue  # the bot has not taken the message yet: the next pass
                    values: dict[str, Any] = {"contact_due_at": None}
                    if linked is not None:
                        values["profile_id"] = int(linked.profile_id)
                        item = _contact(source, int(linked.profile_id), now)
                        if item is not None:
                            items.append(item)
                    connection.execute(
                        followed.update()
                        .where(followed.c.conversation_id == row.conversation_id)
                        .values(**values)
                    )
            made = self.outbox.add(connection, items)
        if made:
            logger.info("crm.feed.contacts checked=%d added=%d", len(due), made)
        return made

    # --- quiet conversations ------------------------------------------------------------

    def summaries(self) -> int:
        """`conversation.summary` for conversations quiet for the configured period."""
        if self.history is None:
            return 0
        now = self.clock()
        quiet_since = now - self.settings.quiet_seconds
        made = 0
        with self.engine.begin() as connection:
            due = connection.execute(
                sa.select(followed)
                .where(
                    followed.c.last_in_at <= quiet_since,
                    sa.or_(
                        followed.c.summarized_at.is_(None),
                        followed.c.summarized_at < followed.c.last_in_at,
                    ),
                )
                .order_by(followed.c.last_in_at)
                .limit(100)
            ).all()
            items = [self._summary(connection, row) for row in due]
            for row in due:
                connection.execute(
                    followed.update()
                    .where(followed.c.conversation_id == row.conversation_id)
                    .values(summarized_at=row.last_in_at)
                )
            made = self.outbox.add(connection, items)
        if made:
            logger.info("crm.feed.summaries added=%d", made)
        return made

    def _summary(self, connection: Connection, row: Row) -> NewDelivery:
        assert self.history is not None  # noqa: S101 (summaries() checked)
        conversation_id = str(row.conversation_id)
        received, sent = self.history.messages(conversation_id, limit=500)
        lines: list[dict[str, Any]] = []
        counts = {"customer": 0, "bot": 0, "agent": 0, "system": 0}
        for message in received:
            if message.id >= int(row.first_in_id):
                counts["customer"] += 1
                lines.append(
                    {"at": message.sent_at, "from": "customer", "text": message.body.get("text")}
                )
        for part in sent:
            if part.created_at >= float(row.first_in_at) and part.error_code != "held":
                author = SENDERS.get(part.source, "system")
                counts[author] += 1
                lines.append({"at": part.created_at, "from": author, "text": part.body.get("text")})
        lines.sort(key=lambda line: float(line["at"]))
        own_cases = [
            dict(case._mapping)
            for case in connection.execute(
                sa.select(cases.c.id, cases.c.status, cases.c.reason)
                .where(cases.c.conversation_id == conversation_id)
                .order_by(cases.c.id.desc())
                .limit(20)
            )
        ]
        data = events.conversation_summary(
            conversation_id=conversation_id,
            channel=str(row.channel),
            profile_id=row.profile_id,
            started_at=float(row.first_in_at),
            last_message_at=float(row.last_in_at),
            quiet_seconds=self.settings.quiet_seconds,
            counts=counts,
            last_messages=lines,
            cases=own_cases,
            desk_url=self.settings.desk_url,
        )
        ref = pseudonym(f"crm summary\0{conversation_id}", 32)
        return NewDelivery(
            key=f"summary:{ref}:{int(row.first_in_id)}",
            event=events.CONVERSATION_SUMMARY,
            occurred_at=float(row.last_in_at) + self.settings.quiet_seconds,
            data=data,
            conversation_id=conversation_id,
            profile_id=row.profile_id,
        )

    def prune(self, keep_seconds: float = 86400.0) -> int:
        """Forgets conversations summarized and quiet for `keep_seconds`; returns how many.

        A new message follows them again.
        """
        before = self.clock() - max(keep_seconds, self.settings.quiet_seconds)
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    followed.delete().where(
                        followed.c.last_in_at < before,
                        followed.c.summarized_at >= followed.c.last_in_at,
                        followed.c.contact_due_at.is_(None),
                    )
                ).rowcount
            )


def _follow(connection: Connection, conversation_id: str, messages: list[Row]) -> None:
    """Notes new messages of a conversation: its quiet period and its profile check restart."""
    first = messages[0]
    latest_sent = max(float(message.sent_at) for message in messages)
    received = [float(message.received_at) for message in messages]
    row = connection.execute(
        sa.select(followed).where(followed.c.conversation_id == conversation_id)
    ).first()
    if row is None:
        connection.execute(
            followed.insert().values(
                conversation_id=conversation_id,
                channel=str(first.channel),
                first_in_id=int(first.id),
                first_in_at=min(received),
                last_in_at=max(received),
                summarized_at=None,
                contact_due_at=latest_sent,
            )
        )
        return
    values: dict[str, Any] = {
        "last_in_at": max(float(row.last_in_at), max(received)),
        "contact_due_at": max(float(row.contact_due_at or 0.0), latest_sent),
    }
    if row.summarized_at is not None and float(row.summarized_at) >= float(row.last_in_at):
        # The last stretch was summarized: this message starts the next one.
        values.update(first_in_id=int(first.id), first_in_at=min(received))
    connection.execute(
        followed.update().where(followed.c.conversation_id == conversation_id).values(**values)
    )


def _contact(source: Connection, profile_id: int, now: float) -> NewDelivery | None:
    """`contact.updated` for the profile as it is now, keyed by what it links."""
    profile = source.execute(sa.select(profiles).where(profiles.c.id == profile_id)).first()
    if profile is None:
        return None
    identities = [
        dict(row._mapping)
        for row in source.execute(
            sa.select(
                channel_conversations.c.channel,
                channel_conversations.c.conversation_id,
                channel_conversations.c.display_name,
                channel_conversations.c.first_seen_at,
                channel_conversations.c.last_inbound_at,
            ).where(channel_conversations.c.profile_id == profile_id)
        )
    ]
    if not identities:
        return None
    linked = sorted(
        (str(item["conversation_id"]), str(item["channel"]), item["display_name"] or "")
        for item in identities
    )
    what = json.dumps([profile.phone, profile.display_name, linked], ensure_ascii=False)
    digest = pseudonym(f"crm contact\0{what}", 32)
    return NewDelivery(
        key=f"contact:{profile_id}:{digest}",
        event=events.CONTACT_UPDATED,
        occurred_at=now,
        data=events.contact_updated(profile_id, profile.phone, profile.display_name, identities),
        profile_id=profile_id,
    )


def _case(connection: Connection, case_id: int) -> dict[str, Any] | None:
    row = connection.execute(sa.select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        return None
    case = dict(row._mapping)
    case["assignee"] = _agent(connection, case.get("assignee_id"))
    return case


def _agent(connection: Connection, agent_id: Any) -> dict[str, Any] | None:
    if not isinstance(agent_id, int):
        return None
    row = connection.execute(
        sa.select(agents.c.id, agents.c.username, agents.c.display_name).where(
            agents.c.id == agent_id
        )
    ).first()
    return None if row is None else dict(row._mapping)


def _just_assigned(connection: Connection, row: Row, agent_id: Any) -> bool:
    """Whether the case's event just before `row` moved it to `assigned` for `agent_id`."""
    before = connection.execute(
        sa.select(case_events.c.action, case_events.c.detail)
        .where(case_events.c.case_id == row.case_id, case_events.c.id < row.id)
        .order_by(case_events.c.id.desc())
        .limit(1)
    ).first()
    if before is None or before.action != "status":
        return False
    detail = _object(before.detail)
    return bool(detail.get("to") == "assigned" and detail.get("assignee") == agent_id)


def _object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
