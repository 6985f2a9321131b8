"""The handoff's part of an erasure: cases kept for statistics with nobody in them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from handoff import personal_data
from handoff.auth import Accounts
from handoff.case import MediaItem, Status
from handoff.facts import Facts, conversation_ref
from handoff.models import case_events, contacts, facts, nlu_candidates
from handoff.store import CaseStore
from tests.unit.handoff.conftest import new

CONVERSATION = "whatsapp:+5215512345678"


def test_cases_of_the_same_conversation_are_erased_apart_and_can_be_again(
    store: CaseStore, accounts: Accounts
) -> None:
    agent = accounts.create("ana", "password-123", role="agent")
    first, _ = store.open_case(
        new(CONVERSATION, customer_name="Ana", collected={"contact": "ana@example.com"})
    )
    store.claim(first.id, agent)
    store.resolve(first.id, agent, return_to_bot=False, outcome="reembolso a Ana")
    store.open_case(new("telegram:9", collected={"contact": "juana@example.com"}))
    assert personal_data.conversations_for(store.engine, emails=["ana@example.com"]) == {
        CONVERSATION
    }
    counts = personal_data.erase(store.engine, [CONVERSATION])
    assert counts == {
        "cases": 1,
        "notes": 0,
        "case_events": 4,
        "ownership": 1,
        "webhook_deliveries": 0,
        "webhook_conversations": 0,
        "facts": 0,
        "contacts": 1,  # the case's contact (no message was recorded)
        "nlu_candidates": 0,
    }
    # The customer comes back, and is erased again: a second closed case, its own pseudonym.
    second, created = store.open_case(new(CONVERSATION, media=(MediaItem("u", "image/jpeg"),)))
    assert created
    assert personal_data.media_urls(store.engine, [CONVERSATION]) == ["u"]
    personal_data.erase(store.engine, [CONVERSATION])
    one, two = store.get(first.id), store.get(second.id)
    assert one.conversation_id != two.conversation_id
    assert one.conversation_id == personal_data.erased_id(first.id, CONVERSATION)
    assert (one.status, two.status) == (Status.CLOSED, Status.CLOSED)
    assert one.outcome is None
    assert one.resolved_at is not None
    assert personal_data.cases_of(store.engine, [CONVERSATION]) == []
    assert personal_data.conversations_for(store.engine, phones=["+5215512345678"]) == set()
    with store.engine.connect() as connection:
        erased = connection.execute(
            sa.select(case_events.c.detail).where(
                case_events.c.case_id == second.id, case_events.c.action == "erased"
            )
        ).scalar_one()
    assert json.loads(erased) == {"from": "queued", "to": "closed"}


def test_notes_only_when_asked(store: CaseStore, accounts: Accounts) -> None:
    agent = accounts.create("ana", "password-123", role="agent", display_name="Ana L.")
    case, _ = store.open_case(new(CONVERSATION))
    store.add_note(case.id, agent, "cliente frecuente")
    (plain,) = personal_data.cases_of(store.engine, [CONVERSATION])
    (noted,) = personal_data.cases_of(store.engine, [CONVERSATION], internal_notes=True)
    assert "internal_notes" not in plain
    assert [(n["agent"], n["text"]) for n in noted["internal_notes"]] == [
        ("Ana L.", "cliente frecuente")
    ]


def test_the_reports_record_stays_counted_but_no_longer_links_to_the_person(
    store: CaseStore,
) -> None:
    recorder = Facts(store.engine, gap=3600)
    not_understood = {"intent": {"name": "nlu_fallback", "confidence": 0.2}}
    said = {
        "event": "user",
        "timestamp": 10.0,
        "text": "quiero el modelo azul de ayer",
        "input_channel": "twilio",
        "parse_data": not_understood,
    }
    recorder.record_events(CONVERSATION, [said, {"event": "bot", "timestamp": 11.0}])
    recorder.record_events("telegram:9", [said])
    mine = conversation_ref(CONVERSATION)

    counts = personal_data.erase(store.engine, [CONVERSATION])

    assert (counts["facts"], counts["contacts"], counts["nlu_candidates"]) == (2, 1, 1)
    with store.engine.connect() as connection:
        refs = connection.execute(sa.select(facts.c.conversation_ref)).scalars().all()
        contact_refs = connection.execute(sa.select(contacts.c.conversation_ref)).scalars().all()
    assert len(refs) == 3  # still counted
    with store.engine.connect() as connection:  # her words, kept for designers, are gone
        left = connection.execute(sa.select(nlu_candidates.c.conversation_ref)).scalars().all()
    assert left == [conversation_ref("telegram:9")]
    assert mine not in refs
    assert mine not in contact_refs
    # One token per conversation: its facts and its contact still belong together.
    assert len(set(refs)) == 2
    assert set(contact_refs) == set(refs)
