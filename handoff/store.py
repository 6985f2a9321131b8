"""Cases in the database: open, claim, assign, transfer, resolve, and the audit log.

`CaseStore` is the only code that writes cases. Every status change goes through
`case.transition()` inside the transaction that writes it, conditional on the status read
in that transaction, so two agents (or an agent and the auto-assigner) can never both take
a case: the second update finds the status changed and fails with `Conflict`.

Who owns the conversation is a record of its own (handoff/ownership_store.py), written in
the transaction of the case move that changes it: parking (`open_case`), resolving back to
the bot (`resolve`), and the hand-back applied (`back_to_bot`). `parked`, `with_people` and
`pending_hand_backs` read that record, never the case's status.

Claiming the next case is `SELECT … ORDER BY urgent_at LIMIT 1 FOR UPDATE SKIP LOCKED` on
PostgreSQL (concurrent claimers skip each other's rows instead of queueing behind them); on
SQLite a transaction takes the write lock at BEGIN (see handoff/database.py), which
serializes claimers the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from handoff import facts
from handoff import ownership_store as owners
from handoff.case import (
    CORRECTABLE_SLOTS,
    PRIORITY_BY_REASON,
    Case,
    MediaItem,
    Priority,
    Reason,
    Status,
    transition,
)
from handoff.database import reader
from handoff.models import agents, canned, case_events, cases, notes
from handoff.ownership_store import Ownership

DEFAULT_CAPACITY = 5


class Conflict(Exception):
    """The case changed under the caller (another agent claimed it first, …)."""


class NotCorrectable(ValueError):
    """A correction names a slot agents may not set (handoff/summary.py CORRECTABLE_SLOTS)."""


class NotFound(Exception):
    """No such case or agent."""


class CapacityReached(Exception):
    """The agent already has as many cases as they can handle."""


@dataclass(frozen=True)
class Agent:
    """A person who answers customers (or supervises those who do)."""

    id: int
    username: str
    display_name: str
    role: str
    team: str | None
    capacity: int
    available: bool
    active: bool = True

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"agent:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "team": self.team,
            "capacity": self.capacity,
            "available": self.available,
            "active": self.active,
        }


@dataclass(frozen=True)
class NewCase:
    """What the bot knows when it hands a conversation over."""

    conversation_id: str
    channel: str
    reason: Reason
    language: str
    sla_due_at: float
    window_closes_at: float | None = None
    profile_id: int | None = None
    customer_name: str | None = None
    team: str | None = None
    priority: Priority | None = None  # default: by reason
    collected: dict[str, Any] | None = None
    media: tuple[MediaItem, ...] = ()
    summary: str = ""
    last_customer_at: float | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One line of a case's audit log."""

    at: float
    actor: str
    action: str
    detail: dict[str, Any]


# The longest satisfaction comment kept on a case (handoff/csat.py); the rest is cut.
CSAT_COMMENT_LIMIT = 2000


@dataclass(frozen=True)
class Satisfaction:
    """A case's satisfaction survey (handoff/csat.py): asked, answered, commented, passed by.

    `ignored` holds the stages the customer went past with something else ("score": their
    next message was not a score; "comment": nor a comment); `skipped` says why it was never
    asked (the channel's window was closed …).
    """

    case_id: int
    conversation_id: str
    channel: str
    language: str
    asked_at: float | None
    score: int | None
    comment: str | None
    answered_at: float | None
    ignored: frozenset[str] = frozenset()
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the desk's case view)."""
        return {
            "asked_at": self.asked_at,
            "score": self.score,
            "comment": self.comment,
            "answered_at": self.answered_at,
            "ignored": sorted(self.ignored),
            "skipped": self.skipped,
        }


class CaseStore:
    """Cases, agents, notes and canned responses in one SQLAlchemy database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Uses `engine` (migrated with `handoff.database.migrate`).

        `clock` dates each change: a script of known times gives the reports a hand count to
        match (tests/integration/handoff/test_reports_hand_count.py).
        """
        self.engine = engine
        self.clock = clock
        self.reader = reader(engine)
        self._postgres = engine.dialect.name == "postgresql"

    # --- opening ----------------------------------------------------------------------

    def open_case(self, new: NewCase, *, actor: str = "bot") -> tuple[Case, bool]:
        """Queues a case for the conversation, now people's; (case, True), or (theirs, False).

        While people own the conversation, a second handoff (the customer asks again, the
        fail-safe fires) returns their case; a unique index on unfinished cases settles two
        that race. A handoff while a hand-back is pending wins over it: the resolved case
        stays resolved, a new one is opened, and the hand-back is cancelled (the tracker is
        paused again by this turn, so resuming it afterwards would silence nobody's request).
        """
        now = self.clock()
        priority = new.priority or PRIORITY_BY_REASON[new.reason]
        values = {
            "conversation_id": new.conversation_id,
            "channel": new.channel,
            "profile_id": new.profile_id,
            "customer_name": new.customer_name,
            "status": Status.QUEUED.value,
            "reason": new.reason.value,
            "priority": priority.value,
            "language": new.language,
            "team": new.team,
            "created_at": now,
            "sla_due_at": new.sla_due_at,
            "window_closes_at": new.window_closes_at,
            "urgent_at": _urgent(new.sla_due_at, new.window_closes_at),
            "last_customer_at": new.last_customer_at,
            "collected": json.dumps(new.collected or {}, ensure_ascii=False, default=str),
            "media": json.dumps([m.__dict__ for m in new.media], ensure_ascii=False),
            "summary": new.summary,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as connection:
                record = owners.get(connection, new.conversation_id)
                if record is not None and record.with_people and not record.handing_back:
                    return self._case(connection, record.case_id), False
                case_id = int(
                    connection.execute(cases.insert().values(**values)).inserted_primary_key[0]
                )
                owners.to_people(connection, new.conversation_id, case_id, now)
                facts.link_case(
                    connection,
                    conversation_id=new.conversation_id,
                    case_id=case_id,
                    channel=new.channel,
                    language=new.language,
                    at=now,
                )
                self._audit(connection, case_id, actor, "opened", {"reason": new.reason.value})
                if record is not None and record.handing_back:
                    detail = {"by_case": case_id}
                    self._audit(connection, record.case_id, actor, "hand_back_cancelled", detail)
                return self._case(connection, case_id), True
        except IntegrityError:  # another handoff of the same conversation won the race
            found = self.with_people(new.conversation_id, handing_back=False)
            if found is None:
                raise
            return found, False

    # --- who owns the conversation (handoff/ownership_store.py) -----------------------

    def ownership(self, conversation_id: str) -> Ownership | None:
        """The conversation's ownership record; None if it was never with people."""
        with self.reader.connect() as connection:
            return owners.get(connection, conversation_id)

    def parked(self, conversation_id: str) -> bool:
        """Whether people own the conversation (the bot must stay silent)."""
        record = self.ownership(conversation_id)
        return record is not None and record.with_people

    def with_people(self, conversation_id: str, *, handing_back: bool = True) -> Case | None:
        """The case of a conversation people own; None while the bot owns it.

        While an agent's hand-back is pending that is the resolved case (the bot is still
        silent); with `handing_back=False` it is None then: people are done with it.
        """
        with self.reader.connect() as connection:
            record = owners.get(connection, conversation_id)
            if record is None or not record.with_people:
                return None
            if record.handing_back and not handing_back:
                return None
            return self._case(connection, record.case_id)

    def pending_hand_backs(self, limit: int = 500) -> list[Ownership]:
        """Conversations an agent gave back to the bot whose tracker was not resumed yet."""
        with self.reader.connect() as connection:
            return owners.pending(connection, limit)

    # --- reading ----------------------------------------------------------------------

    def get(self, case_id: int) -> Case:
        """One case; `NotFound` if there is none."""
        with self.reader.connect() as connection:
            return self._case(connection, case_id)

    def find(
        self,
        *,
        statuses: Sequence[Status] | None = None,
        assignee_id: int | None = None,
        limit: int = 200,
    ) -> list[Case]:
        """Cases by urgency (SLA due or window closing first), open ones by default."""
        wanted = [s.value for s in (statuses or (Status.QUEUED, Status.ASSIGNED))]
        query = _select().where(cases.c.status.in_(wanted))
        if assignee_id is not None:
            query = query.where(cases.c.assignee_id == assignee_id)
        query = query.order_by(cases.c.urgent_at, cases.c.id).limit(limit)
        with self.reader.connect() as connection:
            return [_to_case(row) for row in connection.execute(query)]

    def earlier(self, case: Case, limit: int = 20) -> list[Case]:
        """The same customer's other cases (any channel of their profile), newest first."""
        match = (
            cases.c.profile_id == case.profile_id
            if case.profile_id is not None
            else cases.c.conversation_id == case.conversation_id
        )
        query = (
            _select()
            .where(match)
            .where(cases.c.id != case.id)
            .order_by(cases.c.created_at.desc())
            .limit(limit)
        )
        with self.reader.connect() as connection:
            return [_to_case(row) for row in connection.execute(query)]

    def changed_since(self, since: float, limit: int = 500) -> list[Case]:
        """Cases updated after `since` (the desk's live updates)."""
        query = (
            _select().where(cases.c.updated_at > since).order_by(cases.c.updated_at).limit(limit)
        )
        with self.reader.connect() as connection:
            return [_to_case(row) for row in connection.execute(query)]

    def search(self, text: str, limit: int = 50) -> list[Case]:
        """Cases whose customer name, conversation id (phone) or collected data match."""
        pattern = f"%{_escape_like(text.strip())}%"
        query = (
            _select()
            .where(
                sa.or_(
                    cases.c.customer_name.ilike(pattern, escape="\\"),
                    cases.c.conversation_id.ilike(pattern, escape="\\"),
                    cases.c.collected.ilike(pattern, escape="\\"),
                    cases.c.summary.ilike(pattern, escape="\\"),
                )
            )
            .order_by(cases.c.created_at.desc())
            .limit(limit)
        )
        with self.reader.connect() as connection:
            return [_to_case(row) for row in connection.execute(query)]

    def by_conversations(self, conversation_ids: Iterable[str], limit: int = 50) -> list[Case]:
        """The latest cases of these conversations (search by message text finds those)."""
        ids = list(conversation_ids)
        if not ids:
            return []
        query = (
            _select()
            .where(cases.c.conversation_id.in_(ids))
            .order_by(cases.c.created_at.desc())
            .limit(limit)
        )
        with self.reader.connect() as connection:
            return [_to_case(row) for row in connection.execute(query)]

    # --- claiming and assigning -------------------------------------------------------

    def claim(self, case_id: int, agent: Agent) -> Case:
        """The agent takes a queued case (`Conflict` if someone else was first)."""
        with self.engine.begin() as connection:
            if self._status(connection, case_id) is Status.ASSIGNED:
                raise Conflict(f"case {case_id} was already claimed")
            self._check_capacity(connection, agent)
            self._move(connection, case_id, Status.ASSIGNED, agent.actor, assignee=agent)
            return self._case(connection, case_id)

    def claim_next(self, agent: Agent) -> Case | None:
        """The most urgent queued case of the agent's team (or any), now theirs; None if none.

        On PostgreSQL one statement picks and takes it (`UPDATE … WHERE id = (SELECT …
        FOR UPDATE SKIP LOCKED) RETURNING *`): concurrent claimers skip each other's row
        and the claim costs a few round trips at 100,000 open cases (bench/desk.py).
        """
        with self.engine.begin() as connection:
            self._check_capacity(connection, agent)
            query = sa.select(cases.c.id).where(cases.c.status == Status.QUEUED.value)
            if agent.team:
                query = query.where(sa.or_(cases.c.team.is_(None), cases.c.team == agent.team))
            query = query.order_by(cases.c.urgent_at, cases.c.id).limit(1)
            if not self._postgres:
                case_id = connection.execute(query).scalar()
                if case_id is None:
                    return None
                self._move(connection, case_id, Status.ASSIGNED, agent.actor, assignee=agent)
                return self._case(connection, case_id)
            # A claim lost to a database crash only puts the case back in the queue, so it
            # need not wait for its WAL flush (the disk's fsync was most of its p99).
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            now = self.clock()
            row = connection.execute(
                cases.update()
                .where(cases.c.id == query.with_for_update(skip_locked=True).scalar_subquery())
                .values(
                    status=transition(0, Status.QUEUED, Status.ASSIGNED).value,
                    assignee_id=agent.id,
                    assigned_at=now,
                    updated_at=now,
                )
                .returning(*cases.c)
            ).first()
            if row is None:
                return None
            detail = {
                "from": Status.QUEUED.value,
                "to": Status.ASSIGNED.value,
                "assignee": agent.id,
            }
            self._audit(connection, row.id, agent.actor, "status", detail)
            return _to_case(_WithAssignee(row, agent.display_name))

    def auto_assign(self, case_id: int) -> Case:
        """Gives a queued case to the least-loaded available agent with room, if any."""
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(cases.c.status, cases.c.team).where(cases.c.id == case_id)
            ).first()
            if row is None:
                raise NotFound(f"case {case_id}")
            if row.status == Status.QUEUED.value:
                agent = self._least_loaded(connection, row.team)
                if agent is not None:
                    self._move(connection, case_id, Status.ASSIGNED, "system", assignee=agent)
                    self._audit(connection, case_id, "system", "auto_assigned", {"to": agent.id})
            return self._case(connection, case_id)

    def assign_waiting(self) -> list[Case]:
        """Hands queued cases to agents with room, most urgent first, until none fits."""
        assigned = []
        for case in self.find(statuses=(Status.QUEUED,), limit=500):
            taken = self.auto_assign(case.id)
            if taken.status is Status.ASSIGNED:
                assigned.append(taken)
            elif not self._anyone_free(case.team):
                break
        return assigned

    def _anyone_free(self, team: str | None) -> bool:
        with self.reader.connect() as connection:
            return self._least_loaded(connection, team) is not None

    def _least_loaded(self, connection: Connection, team: str | None) -> Agent | None:
        load = (
            sa.select(sa.func.count())
            .where(cases.c.assignee_id == agents.c.id)
            .where(cases.c.status == Status.ASSIGNED.value)
            .scalar_subquery()
        )
        query = (
            sa.select(agents, load.label("load"))
            .where(agents.c.active.is_(True))
            .where(agents.c.available.is_(True))
            .where(agents.c.role.in_(("agent", "supervisor")))
            .where(load < agents.c.capacity)
            .order_by(load, agents.c.id)
            .limit(1)
        )
        if team:
            query = query.where(agents.c.team == team)
        row = connection.execute(query).first()
        return _to_agent(row) if row else None

    def _check_capacity(self, connection: Connection, agent: Agent) -> None:
        held = connection.execute(
            sa.select(sa.func.count())
            .where(cases.c.assignee_id == agent.id)
            .where(cases.c.status == Status.ASSIGNED.value)
        ).scalar_one()
        if held >= agent.capacity:
            raise CapacityReached(f"{agent.username} already has {held} cases")

    def transfer(
        self, case_id: int, actor: Agent, *, to_agent: Agent | None = None, team: str | None = None
    ) -> Case:
        """To another agent (assigned to them) or to a team (back in that team's queue)."""
        if (to_agent is None) == (team is None):
            raise ValueError("transfer to an agent or to a team")
        with self.engine.begin() as connection:
            if to_agent is not None:
                self._check_capacity(connection, to_agent)
                status = self._status(connection, case_id)
                if status is Status.ASSIGNED:  # agent to agent: same status, new owner
                    self._update(connection, case_id, status, assignee_id=to_agent.id)
                else:
                    self._move(connection, case_id, Status.ASSIGNED, actor.actor, assignee=to_agent)
                self._audit(connection, case_id, actor.actor, "transferred", {"to": to_agent.id})
            else:
                status = self._status(connection, case_id)
                if status is Status.ASSIGNED:
                    self._move(connection, case_id, Status.QUEUED, actor.actor, team=team)
                else:
                    self._update(connection, case_id, status, team=team)
                self._audit(connection, case_id, actor.actor, "transferred", {"team": team})
            return self._case(connection, case_id)

    def release(self, case_id: int, actor: Agent) -> Case:
        """Back to the queue (the agent cannot finish it)."""
        with self.engine.begin() as connection:
            self._move(connection, case_id, Status.QUEUED, actor.actor)
            return self._case(connection, case_id)

    # --- working on a case ------------------------------------------------------------

    def replied(self, case_id: int, agent: Agent) -> Case:
        """An agent's message went to the customer (first reply time, audit)."""
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .where(cases.c.first_reply_at.is_(None))
                .values(first_reply_at=now)
            )
            connection.execute(cases.update().where(cases.c.id == case_id).values(updated_at=now))
            self._audit(connection, case_id, agent.actor, "replied", {})
            return self._case(connection, case_id)

    def customer_wrote(self, case_id: int, at: float, window_closes_at: float | None) -> Case:
        """The customer wrote while people own the thread: a closed case opens again."""
        with self.engine.begin() as connection:
            status = self._status(connection, case_id)
            values: dict[str, Any] = {"last_customer_at": at}
            if window_closes_at is not None:
                values["window_closes_at"] = window_closes_at
            if status is Status.CLOSED:
                self._move(connection, case_id, Status.QUEUED, "customer", **values)
            else:
                self._update(connection, case_id, status, **values)
            return self._case(connection, case_id)

    def take_acknowledgement(self, case_id: int, now: float, every: float) -> bool:
        """Whether to tell the customer "we got it" now: at most once per `every` seconds.

        A conditional update, so two desk processes never both send it. The handoff's own
        promise, at the case's creation, counts as the first.
        """
        since = now - every
        with self.engine.begin() as connection:
            taken = connection.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .where(cases.c.created_at <= since)
                .where(sa.or_(cases.c.last_ack_at.is_(None), cases.c.last_ack_at <= since))
                .values(last_ack_at=now)
            ).rowcount
        return bool(taken)

    def resolve(
        self,
        case_id: int,
        agent: Agent,
        *,
        return_to_bot: bool,
        outcome: str | None = None,
        corrections: dict[str, Any] | None = None,
    ) -> Case:
        """Settled: `resolved` (the bot takes over next) or `closed` (it stays with people).

        Resolving back to the bot leaves the hand-back pending on the ownership record, in
        the same transaction; the Rasa server applies it (handoff/ownership.py). Corrections
        are checked here, where they are stored, so no caller can hand the bot a slot
        outside `CORRECTABLE_SLOTS`.
        """
        refused = sorted(set(corrections or {}) - CORRECTABLE_SLOTS)
        if refused:
            raise NotCorrectable(f"these cannot be corrected: {', '.join(refused)}")
        wanted = Status.RESOLVED if return_to_bot else Status.CLOSED
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(cases.c.collected, cases.c.conversation_id).where(cases.c.id == case_id)
            ).first()
            if row is None:
                raise NotFound(f"case {case_id}")
            collected = {**json.loads(row.collected or "{}"), **(corrections or {})}
            self._move(
                connection,
                case_id,
                wanted,
                agent.actor,
                resolved_at=self.clock(),
                outcome=outcome,
                collected=json.dumps(collected, ensure_ascii=False, default=str),
                corrections=json.dumps(corrections or {}, ensure_ascii=False, default=str),
            )
            self._audit(
                connection,
                case_id,
                agent.actor,
                "resolved" if return_to_bot else "closed",
                {"corrections": sorted(corrections or {}), "outcome": bool(outcome)},
            )
            if return_to_bot and not owners.request_to_bot(
                connection, row.conversation_id, case_id, self.clock()
            ):
                raise Conflict(f"case {case_id} is not its conversation's case with people")
            return self._case(connection, case_id)

    def back_to_bot(self, case_id: int, actor: str = "system") -> bool:
        """The bot owns the conversation again (Rasa resumed it); False if nothing was pending.

        Idempotent: the record is finished only if `case_id`'s hand-back is still pending, so
        a retry, another replica or a hand-back a new handoff cancelled changes nothing. The
        case moves to `bot` in the same transaction (see `Status.BOT`).
        """
        with self.engine.begin() as connection:
            conversation_id = connection.execute(
                sa.select(cases.c.conversation_id).where(cases.c.id == case_id)
            ).scalar()
            if conversation_id is None:
                raise NotFound(f"case {case_id}")
            if not owners.applied_to_bot(connection, conversation_id, case_id, self.clock()):
                return False
            self._move(connection, case_id, Status.BOT, actor)
            return True

    def close_unassigned(self, case_id: int, agent: Agent, outcome: str | None = None) -> Case:
        """A supervisor ends a queued case (spam, a duplicate) without taking it."""
        with self.engine.begin() as connection:
            self._move(connection, case_id, Status.CLOSED, agent.actor, outcome=outcome)
            return self._case(connection, case_id)

    # --- the customer's satisfaction (handoff/csat.py) ---------------------------------

    def satisfaction(self, case_id: int) -> Satisfaction:
        """A case's survey as it stands; `NotFound` if there is no such case."""
        with self.reader.connect() as connection:
            row = connection.execute(_csat_select().where(cases.c.id == case_id)).first()
            if row is None:
                raise NotFound(f"case {case_id}")
            return _to_satisfaction(connection, row)

    def survey_of(self, conversation_id: str) -> Satisfaction | None:
        """The survey of the case the bot last took the conversation back from, if it asked one.

        None while people own the conversation, or when its last case asked nothing: the
        ownership record (one row per conversation) names the case, so this is two lookups
        by primary key (three with a survey), cheap enough for every customer message.
        """
        with self.reader.connect() as connection:
            record = owners.get(connection, conversation_id)
            if record is None or record.with_people:
                return None
            row = connection.execute(
                _csat_select()
                .where(cases.c.id == record.case_id)
                .where(cases.c.csat_asked_at.is_not(None))
            ).first()
            return None if row is None else _to_satisfaction(connection, row)

    def csat_asked(self, case_id: int, *, channel: str, buttons: bool) -> bool:
        """Marks the case's survey asked; False if it already was (a retry, another replica).

        Conditional (`WHERE csat_asked_at IS NULL`): of any number of callers exactly one
        gets True, and only that one sends the question.
        """
        now = self.clock()
        with self.engine.begin() as connection:
            taken = connection.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .where(cases.c.csat_asked_at.is_(None))
                .values(csat_asked_at=now, updated_at=now)
            ).rowcount
            if taken:
                detail = {"channel": channel, "buttons": buttons}
                self._audit(connection, case_id, "system", "csat_asked", detail)
        return bool(taken)

    def csat_skipped(self, case_id: int, why: str) -> None:
        """The survey was not asked, and why (the channel's window was closed, …)."""
        with self.engine.begin() as connection:
            self._audit(connection, case_id, "system", "csat_skipped", {"why": why})

    def csat_answered(self, case_id: int, score: int) -> bool:
        """The customer's score (1..5); False if the survey was not asked or already answered."""
        if not 1 <= score <= 5:
            raise ValueError(f"a satisfaction score is 1 to 5, not {score}")
        now = self.clock()
        with self.engine.begin() as connection:
            taken = connection.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .where(cases.c.csat_asked_at.is_not(None))
                .where(cases.c.csat_score.is_(None))
                .values(csat_score=score, csat_at=now, updated_at=now)
            ).rowcount
            if taken:
                self._audit(connection, case_id, "customer", "csat_answered", {"score": score})
        return bool(taken)

    def csat_commented(self, case_id: int, comment: str) -> bool:
        """The customer's comment after their score; False if there is none or one already."""
        text = comment.strip()[:CSAT_COMMENT_LIMIT]
        if not text:
            return False
        now = self.clock()
        with self.engine.begin() as connection:
            taken = connection.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .where(cases.c.csat_score.is_not(None))
                .where(cases.c.csat_comment.is_(None))
                .values(csat_comment=text, updated_at=now)
            ).rowcount
            if taken:
                self._audit(connection, case_id, "customer", "csat_commented", {})
        return bool(taken)

    def csat_ignored(self, case_id: int, stage: str) -> None:
        """The customer went on with something else at `stage` ("score" or "comment")."""
        with self.engine.begin() as connection:
            self._audit(connection, case_id, "customer", "csat_ignored", {"stage": stage})

    # --- notes, audit, canned responses -----------------------------------------------

    def add_note(self, case_id: int, agent: Agent, text: str) -> dict[str, Any]:
        """An internal note (never sent to the customer)."""
        now = self.clock()
        with self.engine.begin() as connection:
            self._status(connection, case_id)  # NotFound for unknown cases
            note_id = connection.execute(
                notes.insert().values(case_id=case_id, agent_id=agent.id, text=text, at=now)
            ).inserted_primary_key[0]
            connection.execute(cases.update().where(cases.c.id == case_id).values(updated_at=now))
            self._audit(connection, case_id, agent.actor, "noted", {})
        return {"id": note_id, "agent": agent.display_name, "text": text, "at": now}

    def notes(self, case_id: int) -> list[dict[str, Any]]:
        """A case's internal notes, oldest first."""
        query = (
            sa.select(notes.c.id, notes.c.text, notes.c.at, agents.c.display_name)
            .join(agents, agents.c.id == notes.c.agent_id)
            .where(notes.c.case_id == case_id)
            .order_by(notes.c.id)
        )
        with self.reader.connect() as connection:
            return [
                {"id": r.id, "agent": r.display_name, "text": r.text, "at": r.at}
                for r in connection.execute(query)
            ]

    def audit_log(self, case_id: int) -> list[AuditEntry]:
        """Everything done to a case, oldest first."""
        query = (
            sa.select(case_events)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        with self.reader.connect() as connection:
            return [
                AuditEntry(r.at, r.actor, r.action, json.loads(r.detail))
                for r in connection.execute(query)
            ]

    def audit(self, case_id: int, actor: str, action: str, detail: dict[str, Any]) -> None:
        """Records an action done elsewhere (a message sent, a template refused)."""
        with self.engine.begin() as connection:
            self._audit(connection, case_id, actor, action, detail)

    def canned_responses(self, language: str | None = None) -> list[dict[str, Any]]:
        """Saved replies, in a language or all."""
        query = sa.select(canned).order_by(canned.c.title)
        if language:
            query = query.where(canned.c.language == language)
        with self.reader.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def add_canned_response(self, title: str, text: str, language: str) -> int:
        """Saves a reply agents can insert (variables such as {nombre}, {pedido})."""
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    canned.insert().values(
                        title=title, text=text, language=language, created_at=self.clock()
                    )
                ).inserted_primary_key[0]
            )

    # --- internals --------------------------------------------------------------------

    def _case(self, connection: Connection, case_id: int) -> Case:
        row = connection.execute(_select().where(cases.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"case {case_id}")
        return _to_case(row)

    @staticmethod
    def _status(connection: Connection, case_id: int) -> Status:
        value = connection.execute(sa.select(cases.c.status).where(cases.c.id == case_id)).scalar()
        if value is None:
            raise NotFound(f"case {case_id}")
        return Status(value)

    def _move(
        self,
        connection: Connection,
        case_id: int,
        wanted: Status,
        actor: str,
        *,
        assignee: Agent | None = None,
        **values: Any,
    ) -> None:
        """The one place a case's status is written: checked, conditional, audited."""
        current = self._status(connection, case_id)
        transition(case_id, current, wanted)
        now = self.clock()
        if wanted is Status.ASSIGNED:
            if assignee is None:
                raise ValueError("assigning needs an agent")
            values.update(assignee_id=assignee.id, assigned_at=now)
        elif wanted is Status.QUEUED:
            values.update(assignee_id=None, assigned_at=None)
        self._update(connection, case_id, current, status=wanted.value, **values)
        self._audit(
            connection,
            case_id,
            actor,
            "status",
            {"from": current.value, "to": wanted.value, "assignee": values.get("assignee_id")},
        )

    def _update(
        self, connection: Connection, case_id: int, expected: Status, **values: Any
    ) -> None:
        values["updated_at"] = self.clock()
        if "sla_due_at" in values or "window_closes_at" in values:
            row = connection.execute(
                sa.select(cases.c.sla_due_at, cases.c.window_closes_at).where(cases.c.id == case_id)
            ).one()
            values["urgent_at"] = _urgent(
                values.get("sla_due_at", row.sla_due_at),
                values.get("window_closes_at", row.window_closes_at),
            )
        changed = connection.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .where(cases.c.status == expected.value)
            .values(**values)
        ).rowcount
        if not changed:
            raise Conflict(f"case {case_id} changed meanwhile")

    def _audit(
        self, connection: Connection, case_id: int, actor: str, action: str, detail: dict[str, Any]
    ) -> None:
        connection.execute(
            case_events.insert().values(
                case_id=case_id,
                at=self.clock(),
                actor=actor,
                action=action,
                detail=json.dumps(detail, ensure_ascii=False, default=str),
            )
        )

    # --- stats -------------------------------------------------------------------------

    def stats(self, now: float | None = None) -> dict[str, Any]:
        """The supervisor's view: queue depth, waiting times, SLA breaches, agent load."""
        now = now or self.clock()
        with self.reader.connect() as connection:
            queued = connection.execute(
                sa.select(cases.c.created_at, cases.c.sla_due_at).where(
                    cases.c.status == Status.QUEUED.value
                )
            ).all()
            open_rows = connection.execute(
                sa.select(cases.c.sla_due_at, cases.c.first_reply_at).where(
                    cases.c.status.in_((Status.QUEUED.value, Status.ASSIGNED.value))
                )
            ).all()
            load = (
                sa.select(sa.func.count())
                .where(cases.c.assignee_id == agents.c.id)
                .where(cases.c.status == Status.ASSIGNED.value)
                .scalar_subquery()
            )
            people = connection.execute(
                sa.select(agents, load.label("load"))
                .where(agents.c.active.is_(True))
                .order_by(agents.c.display_name)
            ).all()
        waits = sorted(now - row.created_at for row in queued)
        return {
            "queue_depth": len(queued),
            "oldest_wait_s": round(waits[-1], 1) if waits else 0.0,
            "median_wait_s": round(waits[len(waits) // 2], 1) if waits else 0.0,
            "sla_breaches": sum(
                1 for r in open_rows if r.first_reply_at is None and now > r.sla_due_at
            ),
            "open_cases": len(open_rows),
            "agents": [{**_to_agent(row).to_dict(), "load": int(row.load)} for row in people],
        }


class _WithAssignee:
    """A RETURNING row plus the assignee's name (what `_select()` joins in)."""

    def __init__(self, row: Row, assignee_name: str) -> None:
        self._row = row
        self.assignee_name = assignee_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _urgent(sla_due_at: float, window_closes_at: float | None) -> float:
    return sla_due_at if window_closes_at is None else min(sla_due_at, window_closes_at)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _select() -> sa.sql.Select:
    return sa.select(cases, agents.c.display_name.label("assignee_name")).outerjoin(
        agents, agents.c.id == cases.c.assignee_id
    )


def _to_case(row: Any) -> Case:
    return Case(
        id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        status=Status(row.status),
        reason=Reason.parse(row.reason),
        priority=Priority(row.priority),
        language=row.language,
        created_at=row.created_at,
        sla_due_at=row.sla_due_at,
        updated_at=row.updated_at,
        profile_id=row.profile_id,
        customer_name=row.customer_name,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        team=row.team,
        assigned_at=row.assigned_at,
        first_reply_at=row.first_reply_at,
        resolved_at=row.resolved_at,
        window_closes_at=row.window_closes_at,
        last_customer_at=row.last_customer_at,
        collected=json.loads(row.collected or "{}"),
        media=tuple(MediaItem(**item) for item in json.loads(row.media or "[]")),
        summary=row.summary or "",
        outcome=row.outcome,
        corrections=json.loads(row.corrections or "{}"),
    )


def _csat_select() -> sa.sql.Select:
    return sa.select(
        cases.c.id,
        cases.c.conversation_id,
        cases.c.channel,
        cases.c.language,
        cases.c.corrections,
        cases.c.csat_asked_at,
        cases.c.csat_score,
        cases.c.csat_comment,
        cases.c.csat_at,
    )


def _to_satisfaction(connection: Connection, row: Row) -> Satisfaction:
    """A survey from its case's row and the case's `csat_*` audit rows."""
    ignored: set[str] = set()
    skipped = None
    if row.csat_asked_at is None or row.csat_score is None or row.csat_comment is None:
        events = connection.execute(
            sa.select(case_events.c.action, case_events.c.detail)
            .where(case_events.c.case_id == row.id)
            .where(case_events.c.action.in_(("csat_ignored", "csat_skipped")))
            .order_by(case_events.c.id)
        )
        for action, detail in events:
            value = json.loads(detail or "{}")
            if action == "csat_ignored":
                ignored.add(str(value.get("stage")))
            else:
                skipped = str(value.get("why") or "")
    corrected = json.loads(row.corrections or "{}").get("language")
    return Satisfaction(
        case_id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        language=corrected if corrected in ("es", "en") else row.language,
        asked_at=row.csat_asked_at,
        score=row.csat_score,
        comment=row.csat_comment,
        answered_at=row.csat_at,
        ignored=frozenset(ignored),
        skipped=skipped,
    )


def _to_agent(row: Row) -> Agent:
    return Agent(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        team=row.team,
        capacity=row.capacity,
        available=bool(row.available),
        active=bool(row.active),
    )
