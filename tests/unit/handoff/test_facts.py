"""The record reports come from: facts of a turn's events, and the contacts they form."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from handoff.case import Reason
from handoff.facts import Fact, Facts, conversation_ref, facts_of_events
from handoff.models import contacts, facts
from handoff.store import CaseStore
from tests.unit.handoff.conftest import new

HOUR = 3600.0
CONVERSATION = "whatsapp:+5215512345678"


def user(at: float, intent: str = "faq", confidence: float = 0.9, **extra) -> dict:
    return {
        "event": "user",
        "timestamp": at,
        "text": "donde esta mi pedido 10001",
        "input_channel": "twilio",
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "language": "es"},
        **extra,
    }


def bot(at: float, source: str | None = None) -> dict:
    metadata = {"source": source} if source else {}
    return {"event": "bot", "timestamp": at, "text": "Tu pedido va en camino", "metadata": metadata}


def test_a_turn_gives_one_fact_per_message_without_text() -> None:
    found = facts_of_events(
        [user(10.0), {"event": "action", "name": "utter_faq", "timestamp": 10.1}, bot(10.2)],
        None,
    ).facts
    assert [f.kind for f in found] == ["message_in", "message_out"]
    assert found[0] == Fact(
        at=10.0,
        kind="message_in",
        channel="twilio",
        language="es",
        intent="faq",
        confidence=0.9,
        fallback=False,
        text="donde esta mi pedido 10001",  # for the designer's loop; never in the record
        suggested="faq",
    )
    # The bot's message takes the channel of the turn's customer message.
    assert found[1].channel == "twilio"
    assert found[1].detail == {"by": "bot"}


def test_nlu_fallback_and_the_core_fallback_action_both_mark_a_fallback() -> None:
    nlu = facts_of_events([user(1.0, intent="nlu_fallback", confidence=0.3)], "twilio").facts
    core = facts_of_events(
        [user(1.0, intent="greet"), {"event": "action", "name": "action_default_fallback"}],
        "twilio",
    ).facts
    assert nlu[0].fallback
    assert core[0].fallback


def test_agents_and_handoff_messages_are_told_apart_from_the_bots() -> None:
    found = facts_of_events([bot(1.0, "agent"), bot(2.0, "handoff"), bot(3.0, "other")], "x").facts
    assert [f.detail["by"] for f in found] == ["agent", "handoff", "bot"]


def rows(store: CaseStore, table: sa.Table) -> list:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(table).order_by(table.c.id)))


def test_messages_within_the_gap_are_one_contact_and_a_later_one_starts_another(
    store: CaseStore,
) -> None:
    recorder = Facts(store.engine, gap=24 * HOUR)
    recorder.record_events(CONVERSATION, [user(1000.0), bot(1001.0)])
    recorder.record_events(CONVERSATION, [user(1000.0 + 5 * HOUR, intent="nlu_fallback")])
    recorder.record_events(CONVERSATION, [user(1000.0 + 40 * HOUR)])
    first, second = rows(store, contacts)
    assert (first.messages_in, first.fallbacks, first.last_in_at) == (2, 1, 1000.0 + 5 * HOUR)
    assert first.next_started_at == second.started_at == 1000.0 + 40 * HOUR
    assert second.next_started_at is None
    recorded = rows(store, facts)
    assert [r.contact_id for r in recorded] == [first.id, first.id, first.id, second.id]
    # Nothing in the record names the customer or repeats their words.
    for row in recorded:
        assert row.conversation_ref == conversation_ref(CONVERSATION) != CONVERSATION
        assert "pedido" not in json.dumps(row._asdict())


def test_a_message_while_people_own_the_conversation_continues_its_contact(
    store: CaseStore,
) -> None:
    recorder = Facts(store.engine, gap=HOUR)
    start = store.clock()
    recorder.record_events(CONVERSATION, [user(start)])
    case, _ = store.open_case(new(CONVERSATION, reason=Reason.COMPLAINT))
    recorder.record_events(CONVERSATION, [user(start + 30 * HOUR)])  # people still own it
    (contact,) = rows(store, contacts)
    assert contact.case_id == case.id
    assert contact.messages_in == 2


def test_a_case_without_recorded_messages_still_counts_as_a_contact(store: CaseStore) -> None:
    case, _ = store.open_case(new(CONVERSATION))
    (contact,) = rows(store, contacts)
    assert (contact.case_id, contact.messages_in) == (case.id, 0)
    assert contact.conversation_ref == conversation_ref(CONVERSATION)


def test_a_database_failure_is_counted_and_never_raised(store: CaseStore) -> None:
    broken = sa.create_engine("sqlite:///file:/nonexistent/dir/x.db?mode=ro&uri=true")
    recorder = Facts(broken, gap=HOUR)
    recorder.record_events(CONVERSATION, [user(1.0)])
    assert recorder.lost == 1


def test_a_gap_must_be_positive(monkeypatch: pytest.MonkeyPatch, store: CaseStore) -> None:
    monkeypatch.setenv("HILO_CONTACT_GAP_HOURS", "0")
    with pytest.raises(ValueError, match="positive"):
        Facts(store.engine)
