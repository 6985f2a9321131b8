"""The record reports are derived from: what the bot saw and did, and the contacts it forms.

Every customer message becomes a `message_in` fact (channel, language, intent, confidence,
whether it fell back) and every message to the customer a `message_out` fact (the bot's, an
agent's or the handoff's own), written from the events Rasa saves for a turn (the tracker
store calls `Facts.record_events`, installed by handoff/plugin.py). No text is kept, and the
conversation is a keyed pseudonym (hilo/pseudonyms.py): the record is for counting, it
outlives an erasure and never names anyone.

Facts also keep the **contacts** rollup (`handoff_contacts`), in the same transaction: a
contact starts with a customer message after `HILO_CONTACT_GAP_HOURS` (24 by default) without
one, while the bot owns the conversation; a message while people own it, or sooner, continues
the contact. The case store links a contact to the case it opened (`link_case`, in the
transaction that opens the case), so "was a person needed" and "did the customer come back"
are columns, and the overview report is a handful of indexed queries even at a million
messages (handoff/reports.py, docs/analytics.md).

A failure to write facts never fails the customer's turn: the events are already saved.
It is logged (`facts.lost`, no personal data) and counted in `Facts.lost`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from handoff import nlu_candidates as candidates
from handoff.models import contacts, facts, ownership
from handoff.nlu_candidates import Said, label_of, suggestion
from hilo.pseudonyms import pseudonym

logger = logging.getLogger(__name__)

HOUR = 3600.0
DEFAULT_CONTACT_GAP_HOURS = 24.0
# What "not understood" looks like in Rasa's events: the NLU fallback intent, or the core
# fallback action (config.yml's RulePolicy).
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
# Bot messages the desk and the handoff send carry their source in the event's metadata
# (handoff/rasa_client.py); the rest are the bot's.
SOURCES = frozenset({"agent", "handoff"})
HANDOFF_SLOT = "handoff_reason"  # set by actions/handoff.py and the fail-safe
# What an order flow ended in, told by the response the bot sent (its `utter_action`).
ORDER_OUTCOMES = {
    "utter_cancel_done": "cancelled",
    "utter_cancel_done_refund": "cancelled",
    "utter_return_created": "returned",
    "utter_return_damaged": "damaged",
    **{
        f"utter_order_placed_{method}": "placed"
        for method in ("card", "paypal", "mercado_pago", "spei", "oxxo")
    },
}
# Entities a customer message may name that say what it is about, not who wrote it: kept in
# the fact's detail for trends ("mostly Monterrey"). Never a person's name, contact or order.
TOPIC_ENTITIES = ("city", "product")
REF_LENGTH = 32


def conversation_ref(conversation_id: str) -> str:
    """The keyed pseudonym facts and contacts use for a conversation."""
    return pseudonym(conversation_id, REF_LENGTH)


def contact_gap() -> float:
    """Seconds of quiet after which a customer's message starts a new contact."""
    hours = float(os.environ.get("HILO_CONTACT_GAP_HOURS", DEFAULT_CONTACT_GAP_HOURS))
    if hours <= 0:
        raise ValueError("HILO_CONTACT_GAP_HOURS must be positive")
    return hours * HOUR


@dataclass(frozen=True)
class Fact:
    """One row of the record (see the module docstring)."""

    at: float
    kind: str  # "message_in" | "message_out" | "order"
    channel: str
    language: str | None = None
    intent: str | None = None
    confidence: float | None = None
    fallback: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)
    # Never written to the record: what the designer's loop needs (handoff/nlu_candidates.py).
    text: str | None = None
    suggested: str | None = None

    def said(self) -> Said | None:
        """The customer message as the designer's loop sees it (None without text)."""
        if self.kind != "message_in" or self.text is None:
            return None
        return Said(
            at=self.at,
            text=self.text,
            language=self.language,
            predicted=self.intent,
            confidence=self.confidence,
            fallback=self.fallback,
            suggested=self.suggested,
        )


@dataclass(frozen=True)
class Turn:
    """What a turn's saved events say: its facts, and why it handed over, if it did."""

    facts: list[Fact]
    handoff: str | None = None


def fact_of_user_event(event: Mapping[str, Any], channel: str | None) -> Fact:
    """A customer message's fact: the label it was acted on (an intent or `faq/<key>`)."""
    parse = event.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name") or None
    confidence = (parse.get("intent") or {}).get("confidence")
    language = parse.get("language")
    text = event.get("text")
    named = {
        entity["entity"]: str(entity.get("value"))[:80]
        for entity in parse.get("entities") or []
        if entity.get("entity") in TOPIC_ENTITIES and entity.get("value")
    }
    return Fact(
        at=float(event.get("timestamp") or 0.0),
        kind="message_in",
        channel=event.get("input_channel") or channel or "unknown",
        language=language if isinstance(language, str) else None,
        intent=label_of(parse),
        confidence=float(confidence) if confidence is not None else None,
        fallback=intent == FALLBACK_INTENT,
        detail=named,
        text=text if isinstance(text, str) else None,
        suggested=suggestion(parse),
    )


def facts_of_events(events: Iterable[Mapping[str, Any]], channel: str | None) -> Turn:
    """The facts in a turn's Rasa events (as dicts), in order, and its handoff reason.

    `channel` is the conversation's channel when the events do not say (bot messages carry
    none; a turn's user message does). A user message is a fallback when NLU found nothing
    (`nlu_fallback`) or the core fallback action answered it before the next message.
    """
    found: list[Fact] = []
    last_in: int | None = None
    handoff = None
    for event in events:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0.0)
        if kind == "user":
            fact = fact_of_user_event(event, channel)
            channel = fact.channel
            found.append(fact)
            last_in = len(found) - 1
        elif kind == "slot" and event.get("name") == HANDOFF_SLOT and event.get("value"):
            handoff = str(event["value"])
        elif kind == "action" and event.get("name") in FALLBACK_ACTIONS and last_in is not None:
            previous = found[last_in]
            found[last_in] = Fact(**{**previous.__dict__, "fallback": True})
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            source = metadata.get("source")
            outcome = ORDER_OUTCOMES.get(str(metadata.get("utter_action")))
            if outcome:
                found.append(
                    Fact(at=at, kind="order", channel=channel or "unknown", intent=outcome)
                )
            found.append(
                Fact(
                    at=at,
                    kind="message_out",
                    channel=channel or "unknown",
                    detail={"by": source if source in SOURCES else "bot"},
                )
            )
    return Turn(found, handoff)


class Facts:
    """Writes the record and its contacts rollup (the only writer of both tables)."""

    def __init__(self, engine: Engine, gap: float | None = None) -> None:
        """`gap`: seconds of quiet that start a new contact (default `contact_gap()`)."""
        self._engine = engine
        self._gap = contact_gap() if gap is None else gap
        self.lost = 0

    def record_events(
        self,
        conversation_id: str,
        events: Iterable[Any],
        latest: Mapping[str, Any] | None = None,
    ) -> None:
        """Records a turn's saved Rasa events (Event objects or dicts); never raises.

        `latest`: the conversation's latest customer message (a Rasa event dict), for a turn
        that hands over without one (the fail-safe's): the designer's loop keeps it.
        """
        dicts = [event if isinstance(event, Mapping) else event.as_dict() for event in events]
        if not any(_recorded(event) for event in dicts):
            return  # slots and actions alone: nothing for the record
        try:
            with self._engine.begin() as connection:
                ref = conversation_ref(conversation_id)
                turn = facts_of_events(dicts, _last_channel(connection, ref))
                for fact in turn.facts:
                    self._write(connection, conversation_id, ref, fact)
                if turn.handoff:
                    said = [fact.said() for fact in turn.facts if fact.kind == "message_in"]
                    if not said and latest is not None:
                        said = [fact_of_user_event(latest, None).said()]
                    last = said[-1] if said else None
                    candidates.after_handoff(connection, ref, turn.handoff, last)
        except Exception as error:  # the turn's events are saved: count the loss, go on
            self.lost += 1
            logger.warning("facts.lost error=%s", type(error).__name__)

    def record(self, conversation_id: str, fact: Fact) -> None:
        """Records one fact (an order outcome, a message the tests script)."""
        with self._engine.begin() as connection:
            self._write(connection, conversation_id, conversation_ref(conversation_id), fact)

    def _write(self, connection: Connection, conversation_id: str, ref: str, fact: Fact) -> None:
        contact_id = (
            self._contact_for(connection, conversation_id, ref, fact)
            if fact.kind == "message_in"
            else _latest_contact_id(connection, ref)
        )
        connection.execute(
            facts.insert().values(
                at=fact.at,
                kind=fact.kind,
                conversation_ref=ref,
                contact_id=contact_id,
                channel=fact.channel,
                language=fact.language,
                intent=(fact.intent or None) and fact.intent[:80],
                confidence=fact.confidence,
                fallback=fact.fallback,
                detail=json.dumps(dict(fact.detail), sort_keys=True),
            )
        )
        said = fact.said()
        if said is not None:
            candidates.consider(connection, ref, said)

    def _contact_for(
        self, connection: Connection, conversation_id: str, ref: str, fact: Fact
    ) -> int:
        """The contact a customer message belongs to: the current one, or a new one."""
        latest = connection.execute(
            sa.select(contacts.c.id, contacts.c.last_in_at)
            .where(contacts.c.conversation_ref == ref)
            .order_by(contacts.c.started_at.desc(), contacts.c.id.desc())
            .limit(1)
        ).first()
        continues = latest is not None and (
            fact.at - float(latest.last_in_at) <= self._gap
            or _with_people(connection, conversation_id)
        )
        if latest is not None and continues:
            connection.execute(
                contacts.update()
                .where(contacts.c.id == latest.id)
                .values(
                    last_in_at=sa.func.max(contacts.c.last_in_at, fact.at)
                    if connection.dialect.name == "sqlite"
                    else sa.func.greatest(contacts.c.last_in_at, fact.at),
                    messages_in=contacts.c.messages_in + 1,
                    fallbacks=contacts.c.fallbacks + int(fact.fallback),
                )
            )
            return int(latest.id)
        if latest is not None:
            connection.execute(
                contacts.update()
                .where(contacts.c.id == latest.id, contacts.c.next_started_at.is_(None))
                .values(next_started_at=fact.at)
            )
        inserted = connection.execute(
            contacts.insert().values(
                conversation_ref=ref,
                channel=fact.channel,
                language=fact.language,
                started_at=fact.at,
                last_in_at=fact.at,
                messages_in=1,
                fallbacks=int(fact.fallback),
            )
        )
        return int(inserted.inserted_primary_key[0])


def link_case(
    connection: Connection,
    *,
    conversation_id: str,
    case_id: int,
    channel: str,
    language: str | None,
    at: float,
) -> None:
    """In the transaction that opens a case: its contact needed a person.

    The conversation's latest contact takes the case unless it already has one (a second
    case in the same contact is still one contact handed off). A case with no contact yet
    (opened before any message was recorded) starts one, so it is counted.
    """
    ref = conversation_ref(conversation_id)
    latest = connection.execute(
        sa.select(contacts.c.id, contacts.c.case_id)
        .where(contacts.c.conversation_ref == ref)
        .order_by(contacts.c.started_at.desc(), contacts.c.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        connection.execute(
            contacts.insert().values(
                conversation_ref=ref,
                channel=channel,
                language=language,
                started_at=at,
                last_in_at=at,
                messages_in=0,
                fallbacks=0,
                case_id=case_id,
            )
        )
    elif latest.case_id is None:
        connection.execute(
            contacts.update().where(contacts.c.id == latest.id).values(case_id=case_id)
        )


def _recorded(event: Mapping[str, Any]) -> bool:
    """Whether the record has something to write for this event."""
    kind = event.get("event")
    return kind in ("user", "bot") or (kind == "slot" and event.get("name") == HANDOFF_SLOT)


def _latest_contact_id(connection: Connection, ref: str) -> int | None:
    found = connection.execute(
        sa.select(contacts.c.id)
        .where(contacts.c.conversation_ref == ref)
        .order_by(contacts.c.started_at.desc(), contacts.c.id.desc())
        .limit(1)
    ).scalar()
    return int(found) if found is not None else None


def _last_channel(connection: Connection, ref: str) -> str | None:
    """The channel of the conversation's latest contact (bot messages carry none)."""
    return connection.execute(
        sa.select(contacts.c.channel)
        .where(contacts.c.conversation_ref == ref)
        .order_by(contacts.c.started_at.desc(), contacts.c.id.desc())
        .limit(1)
    ).scalar()


def _with_people(connection: Connection, conversation_id: str) -> bool:
    """Whether people own the conversation (its ownership record, handoff/ownership_store)."""
    owner = connection.execute(
        sa.select(ownership.c.owner).where(ownership.c.conversation_id == conversation_id)
    ).scalar()
    return owner == "people"
