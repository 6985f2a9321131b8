"""Source records → deliveries, on SQLite and PostgreSQL (the handoff database)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine as channels_engine
from crm.feed import Feed
from crm.settings import WebhookSettings
from handoff import personal_data
from handoff.auth import Accounts
from handoff.models import cases, webhook_deliveries
from handoff.store import CaseStore
from tests.unit.crm.conftest import Clock
from tests.unit.handoff.conftest import new

SETTINGS = WebhookSettings(url="http://crm.invalid/hook", secret="s", desk_url="http://desk")


@pytest.fixture
def channels(tmp_path: Path) -> Iterator[Engine]:
    made = channels_engine(f"sqlite:///{tmp_path / 'channels.db'}")
    yield made
    made.dispose()


def sent(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(webhook_deliveries.c.payload).order_by(webhook_deliveries.c.id)
        ).scalars()
        return [json.loads(row) for row in rows]


def write(channels: Engine, conversation: str, text: str, *, phone: str | None = None,
          linked: bool = True, name: str = "Ana") -> None:  # fmt: skip
    message = InboundMessage(
        conversation.split(":")[0], conversation, f"p-{time.time_ns()}", Kind.TEXT,
        time.time(), text=text, phone=phone, display_name=name,
    )  # fmt: skip
    Inbox(channels).accept(message)
    if linked:  # the bot took it: the channels recorded the customer
        Customers(channels).record_inbound(message)


def test_the_case_life_makes_one_event_per_step(engine: Engine) -> None:
    store, accounts = CaseStore(engine), Accounts(engine)
    ana = accounts.create("ana", "password-123", display_name="Ana A")
    beto = accounts.create("beto", "password-123", display_name="Beto B")
    earlier, _ = store.open_case(new("telegram:1"))  # before the feed: not sent
    feed = Feed(engine, None, SETTINGS, Clock(time.time()))
    assert feed.run_once() == 0
    case, _ = store.open_case(new(collected={"order_id": "10001"}, summary="roto"))
    store.claim(case.id, ana)
    store.transfer(case.id, ana, to_agent=beto)  # agent to agent: one case.assigned
    store.resolve(case.id, beto, return_to_bot=True, outcome="reembolso")
    with engine.begin() as connection:
        connection.execute(
            cases.update().where(cases.c.id == case.id)
            .values(csat_score=4, csat_comment="bien", csat_at=time.time())
        )  # fmt: skip
    store.audit(case.id, "customer", "csat_answered", {"score": 4})
    store.audit(case.id, "customer", "csat_commented", {})  # a comment after the score
    store.transfer(earlier.id, ana, to_agent=beto)  # from the queue: one case.assigned
    store.auto_assign(store.open_case(new("telegram:2"))[0].id)
    assert feed.run_once() == 9
    assert feed.run_once() == 0  # read again: nothing new
    bodies = sent(engine)
    assert [b["type"] for b in bodies] == [
        "case.opened", "case.assigned", "case.assigned", "case.resolved", "csat.received",
        "csat.received", "case.assigned", "case.opened", "case.assigned",
    ]  # fmt: skip
    opened, claimed, transferred, resolved, csat = (b["data"] for b in bodies[:5])
    assert bodies[5]["data"]["score"] == 4  # the answer again, with its comment
    assert opened["case"]["collected"] == {"order_id": "10001"}
    assert claimed["case"]["assignee"]["username"] == "ana"
    assert transferred["case"]["assignee"]["username"] == "beto"
    assert transferred["by"] == f"agent:{ana.id}"
    assert resolved["resolution"] == "resolved"
    assert resolved["outcome"] == "reembolso"
    assert (csat["score"], csat["comment"]) == (4, "bien")
    assert bodies[6]["data"]["case"]["id"] == earlier.id
    assert bodies[8]["data"]["by"] == "system"
    assert len({b["id"] for b in bodies}) == 9


def test_a_closed_case_the_customer_writes_to_again_is_reopened_for_the_crm(
    engine: Engine,
) -> None:
    """The CRM heard `case.resolved` with `closed`: it must hear that the case is open again,
    and not when an agent merely passes a case back to the queue."""
    store, accounts = CaseStore(engine), Accounts(engine)
    ana = accounts.create("ana", "password-123", display_name="Ana A")
    feed = Feed(engine, None, SETTINGS, Clock(time.time()))
    assert feed.run_once() == 0  # the feed starts here
    case, _ = store.open_case(new())
    store.claim(case.id, ana)
    store.release(case.id, ana)  # back to the queue: not a reopening
    store.claim(case.id, ana)
    store.resolve(case.id, ana, return_to_bot=False, outcome="sin respuesta")
    store.customer_wrote(case.id, time.time(), None)
    assert feed.run_once() == 5
    bodies = sent(engine)
    assert [b["type"] for b in bodies] == [
        "case.opened", "case.assigned", "case.assigned", "case.resolved", "case.reopened",
    ]  # fmt: skip
    assert bodies[3]["data"]["resolution"] == "closed"
    reopened = bodies[4]["data"]["case"]
    assert (reopened["id"], reopened["status"], reopened["assignee"]) == (case.id, "queued", None)


def test_identities_linked_by_phone_make_a_contact_update(engine: Engine, channels: Engine) -> None:
    clock = Clock(time.time())
    feed = Feed(engine, channels, SETTINGS, clock)
    feed.run_once()
    write(channels, "whatsapp:+5215512345678", "hola", phone="+5215512345678")
    assert feed.run_once() == 1
    write(channels, "telegram:1111", "soy yo", phone="+5215512345678")
    write(channels, "telegram:1111", "sigo aquí", phone="+5215512345678")
    write(channels, "telegram:2222", "otra persona", linked=False)  # the bot has not taken it
    assert feed.run_once() == 1
    assert feed.run_once() == 0
    first, linked = (b for b in sent(engine) if b["type"] == "contact.updated")
    assert [i["conversation_id"] for i in first["data"]["identities"]] == [
        "whatsapp:+5215512345678"
    ]
    assert [i["channel"] for i in linked["data"]["identities"]] == ["telegram", "whatsapp"]
    assert linked["data"]["phone"] == "+5215512345678"
    clock.advance(16 * 60)  # never linked: given up on, quietly
    feed.run_once()
    assert len([b for b in sent(engine) if b["type"] == "contact.updated"]) == 2


def test_a_quiet_conversation_is_summarized_once_per_stretch(
    engine: Engine, channels: Engine
) -> None:
    clock = Clock(time.time())
    feed = Feed(engine, channels, SETTINGS, clock)
    feed.run_once()
    write(channels, "telegram:1111", "hola")
    write(channels, "telegram:1111", "¿dónde está mi pedido?")
    feed.run_once()
    clock.advance(29 * 60)
    feed.run_once()
    assert [b["type"] for b in sent(engine)] == ["contact.updated"]
    clock.advance(2 * 60)
    assert feed.run_once() == 1
    summary = sent(engine)[-1]
    assert summary["type"] == "conversation.summary"
    assert summary["data"]["messages"]["customer"] == 2
    assert [m["text"] for m in summary["data"]["last_messages"]] == [
        "hola", "¿dónde está mi pedido?",
    ]  # fmt: skip
    clock.advance(3600)
    assert feed.run_once() == 0  # nothing new: no second summary
    clock.now = time.time()  # the customer writes again (messages carry real times)
    write(channels, "telegram:1111", "gracias")
    feed.run_once()
    clock.advance(31 * 60)
    assert feed.run_once() == 1
    again = sent(engine)[-1]["data"]
    assert again["messages"]["customer"] == 1  # only the new stretch
    assert again["last_messages"][0]["text"] == "gracias"


def test_an_erasure_blanks_the_persons_deliveries_and_none_is_made_again(
    engine: Engine, channels: Engine
) -> None:
    clock = Clock(time.time())
    store = CaseStore(engine)
    feed = Feed(engine, channels, SETTINGS, clock)
    feed.run_once()
    conversation = "whatsapp:+5215512345678"
    write(channels, conversation, "quiero hablar con alguien", phone="+5215512345678")
    store.open_case(new(conversation, customer_name="Ana", collected={"email": "a@b.mx"}))
    store.open_case(new("telegram:9"))  # someone else
    assert feed.run_once() == 3
    counts = personal_data.erase(engine, [conversation])
    assert counts["webhook_deliveries"] == 2
    assert counts["webhook_conversations"] == 1
    with engine.connect() as connection:
        rows = connection.execute(sa.select(webhook_deliveries)).all()
    mine = [row for row in rows if row.payload == "{}"]
    assert len(mine) == 2
    assert {row.state for row in mine} == {"erased"}
    assert all(row.conversation_id is None and row.profile_id is None for row in mine)
    leftover = " ".join(row.payload for row in rows)
    assert "5512345678" not in leftover
    assert "a@b.mx" not in leftover
    clock.advance(3600)
    feed.run_once()  # the channels still have the data until their part of the erasure
    with engine.connect() as connection:
        payloads = connection.execute(sa.select(webhook_deliveries.c.payload)).scalars().all()
    assert not any("5512345678" in payload for payload in payloads)
