"""Erasure: the person is gone from every store, John is untouched, a second run finds nothing,
the audit keeps no personal data, and Ana writing again starts fresh (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from actions.commerce.database import make_engine as commerce_engine
from actions.commerce.sql import SqlCommerceBackend
from actions.commerce.verification import contact_matches
from connectors.customers import Customers
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine as channels_engine
from handoff.database import make_engine as handoff_engine
from handoff.models import case_events, cases, notes
from handoff.store import CaseStore
from privacy import audit
from privacy.erase import erase, preview
from privacy.stores import HandoffMissing, Stores
from privacy.subject import Request
from tests.unit.privacy.conftest import (
    ANA_EMAIL,
    ANA_NAME,
    ANA_SAID,
    ANA_STREET,
    ANA_TELEGRAM,
    ANA_WHATSAPP,
    JOHN_NAME,
    JOHN_SAID,
    JOHN_WHATSAPP,
    World,
)

# What would give Ana away: her name, phone (both spellings), email, street, her words.
ANA = (ANA_NAME, "5512345678", ANA_EMAIL, ANA_STREET, ANA_SAID, "soy Ana otra vez")
REASON = "Solicitud ARCO 2026-17"


def erased(world: World, **named: list[str]):
    return erase(Request.of(**named), world.stores, actor="cli:test", reason=REASON)


def test_the_person_is_gone_from_every_store_and_john_is_intact(world: World) -> None:
    before = world.holding(*ANA)
    assert {"channel_inbound", "customer_profiles", "handoff_cases", "orders", "events"} <= set(
        before
    )
    johns = world.holding(JOHN_NAME, JOHN_SAID)
    john_case = CaseStore(handoff_engine(world.urls["handoff"])).get(world.john_case)

    done = erased(world, phones=["+52 55 1234 5678"])

    assert world.holding(*ANA) == {}
    assert world.holding(JOHN_NAME, JOHN_SAID) == johns
    for name in world.ana_files:
        assert not (world.stores.media / name).exists()
    assert (world.stores.media / world.john_file).exists()
    assert [path.name for path in world.stores.mail.glob("*.eml")] == ["1.eml"]  # John's
    store = CaseStore(handoff_engine(world.urls["handoff"]))
    assert store.get(world.john_case) == john_case
    assert [note["text"] for note in store.notes(world.john_case)] == [f"{JOHN_NAME} is a regular"]

    counts = done.counts
    assert counts["channels"] == {"inbound": 4, "outbound": 3, "conversations": 2, "profiles": 1}
    assert counts["handoff"] == {
        "cases": 1,
        "notes": 1,
        "case_events": 3,
        "ownership": 1,
        "webhook_deliveries": 0,
        "webhook_conversations": 0,
        "facts": 0,
        "contacts": 1,  # her case's contact, unlinked from her
        "nlu_candidates": 0,
    }
    assert counts["trackers"] == {"events": 4}
    assert counts["media"] == {"files": 2}
    assert counts["mail"] == {"files": 1}
    assert counts["commerce"]["lookup_attempts"] == 2
    assert counts["commerce"]["verification_failures"] == 1
    assert counts["commerce"]["one_time_codes"] == 1
    assert counts["commerce"]["orders"] >= 3
    assert done.found["conversations"] == 2
    assert done.total == sum(sum(kinds.values()) for kinds in counts.values())


def test_orders_stay_for_the_books_without_the_person_and_cannot_be_claimed(
    world: World,
) -> None:
    engine = commerce_engine(world.urls["commerce"])
    backend = SqlCommerceBackend(engine)
    original = backend.get_order("10001")
    erased(world, emails=[ANA_EMAIL])
    order = backend.get_order("10001")
    assert (order.status, order.items, order.total_cents, order.created_at) == (
        original.status,
        original.items,
        original.total_cents,
        original.created_at,
    )
    assert (order.customer_name, order.phone, order.email, order.tracking_number) == (
        "",
        None,
        "",
        None,
    )
    assert (order.address.street, order.address.city, order.address.postal_code) == ("", "", "")
    for proof in (
        {"phone": "+525512345678"},
        {"email": ANA_EMAIL},
        {"email": ""},
        {"last4": "5678"},
    ):
        assert not contact_matches(order, **proof)
    assert backend.orders_for_contact(phone="+525512345678", email=ANA_EMAIL) == []
    assert backend.get_order("10002").customer_name == JOHN_NAME
    engine.dispose()


def test_cases_keep_their_statistics_and_nothing_that_says_who(world: World) -> None:
    engine = handoff_engine(world.urls["handoff"])
    before = CaseStore(engine).get(world.ana_cases[0])
    erased(world, conversations=[ANA_TELEGRAM])  # linked to the WhatsApp one by the phone
    with engine.connect() as connection:
        row = connection.execute(sa.select(cases).where(cases.c.id == before.id)).one()
        details = connection.execute(
            sa.select(case_events.c.action, case_events.c.detail).where(
                case_events.c.case_id == before.id
            )
        ).all()
        left = connection.execute(sa.select(notes).where(notes.c.case_id == before.id)).all()
    assert row.conversation_id.startswith("erased:")
    assert "5512345678" not in row.conversation_id
    assert (row.customer_name, row.profile_id, row.outcome) == (None, None, None)
    assert (row.collected, row.media, row.summary, row.corrections) == ("{}", "[]", "", "{}")
    assert (row.reason, row.channel, row.created_at, row.assignee_id) == (
        before.reason.value,
        before.channel,
        before.created_at,
        before.assignee_id,
    )
    assert row.status == "closed"  # nobody must answer a customer who is not there
    assert left == []
    assert all(detail == "{}" for action, detail in details if action != "erased")
    assert ("erased", json.dumps({"from": "assigned", "to": "closed"})) in details
    store = CaseStore(engine)
    assert not store.parked(ANA_WHATSAPP)
    assert store.search("Ana") == []
    engine.dispose()


def test_a_second_run_finds_nothing_and_succeeds(world: World) -> None:
    first = erased(world, phones=["+5215512345678"])
    second = erased(world, phones=["+5215512345678"])
    assert first.total > 0
    assert second.total == 0
    assert second.subject_ref == first.subject_ref
    assert second.audit_id == first.audit_id + 1


def test_the_audit_says_who_why_and_how_many_never_the_data(world: World) -> None:
    done = erase(
        Request.of(phones=["+5215512345678"]),
        world.stores,
        actor="desk:admin",
        reason=f"pidió borrar todo, escribió a {ANA_EMAIL} desde +52 55 1234 5678",
    )
    engine = handoff_engine(world.urls["handoff"])
    (entry,) = audit.entries(engine)
    engine.dispose()
    assert entry["id"] == done.audit_id
    assert (entry["action"], entry["actor"]) == ("erase", "desk:admin")
    assert entry["subject_ref"] == Request.of(phones=["+52 1 55 1234 5678"]).ref()
    assert entry["counts"] == done.counts
    assert "<email>" in entry["reason"]
    assert "<phone>" in entry["reason"]
    text = json.dumps(entry, ensure_ascii=False)
    for needle in ANA:
        assert needle not in text
    assert time.time() - entry["at"] < 60


def test_an_erased_customer_who_writes_again_starts_fresh(world: World) -> None:
    channels = channels_engine(world.urls["channels"])
    customers = Customers(channels)
    old = customers.profile(ANA_WHATSAPP)
    assert old is not None
    erased(world, phones=["+5215512345678"])
    assert customers.profile(ANA_WHATSAPP) is None
    message = InboundMessage(
        "twilio", ANA_WHATSAPP, "SMnew", Kind.TEXT, time.time(), text="hola", phone="+5215512345678"
    )
    customers.record_inbound(message)
    fresh = customers.profile(ANA_WHATSAPP)
    assert fresh is not None
    assert [i.conversation_id for i in fresh.identities] == [ANA_WHATSAPP]  # Telegram is gone
    assert customers.profile(ANA_TELEGRAM) is None
    tracker = sa.create_engine(world.urls["trackers"], future=True)
    with tracker.connect() as connection:
        left = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id IN (:a, :b)"),
            {"a": ANA_WHATSAPP, "b": ANA_TELEGRAM},
        ).scalar()
    tracker.dispose()
    channels.dispose()
    assert left == 0


def test_preview_changes_nothing(world: World) -> None:
    before = world.rows()
    found = preview(Request.of(conversations=[ANA_WHATSAPP]), world.stores)
    assert found["conversations"] == 2
    assert world.rows() == before


def test_missing_stores_hold_nothing_but_the_handoff_must_be_there(world: World, tmp_path) -> None:
    partial = Stores(
        channels=world.urls["channels"],
        handoff=world.urls["handoff"],
        commerce=f"sqlite:///{tmp_path / 'never-created.db'}",
        trackers=None,
        media=None,
    )
    done = erase(Request.of(conversations=[JOHN_WHATSAPP]), partial, actor="t", reason="r")
    assert set(done.counts) == {"channels", "handoff"}
    assert not (tmp_path / "never-created.db").exists()
    no_handoff = Stores(
        channels=None, handoff=f"sqlite:///{tmp_path / 'none.db'}", commerce=None,
        trackers=None, media=None,
    )  # fmt: skip
    with pytest.raises(HandoffMissing):
        erase(Request.of(conversations=[JOHN_WHATSAPP]), no_handoff, actor="t", reason="r")
    with pytest.raises(ValueError, match="reason"):
        erase(Request.of(conversations=[JOHN_WHATSAPP]), partial, actor="t", reason=" ")
