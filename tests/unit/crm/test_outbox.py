import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm.outbox import DELIVERED, ERASED, FAILED, PENDING, NewDelivery, Outbox
from handoff.models import webhook_deliveries
from tests.unit.crm.conftest import Clock


def item(key: str = "case_event:1", **kw) -> NewDelivery:
    values = {"event": "case.opened", "occurred_at": 1_800_000_000.0, "data": {"x": 1}} | kw
    return NewDelivery(key=key, **values)


def add(outbox: Outbox, *items: NewDelivery) -> int:
    with outbox.engine.begin() as connection:
        return outbox.add(connection, items)


def states(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(webhook_deliveries.c.id, webhook_deliveries.c.state))
        return {int(row.id): row.state for row in rows}


def test_a_source_record_makes_one_delivery_however_often_it_is_added(engine: Engine) -> None:
    outbox = Outbox(engine, Clock())
    assert add(outbox, item("case_event:1"), item("case_event:2")) == 2
    assert add(outbox, item("case_event:1"), item("case_event:3")) == 1
    assert len(states(engine)) == 3


def test_the_body_is_built_once_with_its_delivery_id(engine: Engine) -> None:
    outbox = Outbox(engine, Clock())
    add(outbox, item())
    (leased,) = outbox.claim("w1", 10, 60)
    body = json.loads(leased.body)
    assert body["id"] == leased.delivery_id
    assert body["type"] == "case.opened"
    assert outbox.body(leased.delivery_id) == body


def test_a_leased_delivery_is_not_given_to_another_worker(engine: Engine) -> None:
    clock = Clock()
    outbox = Outbox(engine, clock)
    add(outbox, item("a"), item("b"))
    first = outbox.claim("w1", 1, 60)
    second = outbox.claim("w2", 10, 600)
    assert len(first) == len(second) == 1
    assert first[0].id != second[0].id
    assert outbox.claim("w3", 10, 60) == []
    clock.advance(61)  # w1 died: its lease ends and the delivery goes to another worker
    (again,) = outbox.claim("w3", 10, 60)
    assert again.id == first[0].id
    assert not outbox.delivered(first[0], "w1", 200)  # w1's lease was lost
    assert outbox.delivered(again, "w3", 200)


def test_retry_failed_replay_and_prune(engine: Engine) -> None:
    clock = Clock()
    outbox = Outbox(engine, clock)
    add(outbox, item("a"), item("b"))
    a, b = outbox.claim("w", 10, 60)
    assert outbox.retry(a, "w", 503, "HTTP 503", clock.now + 30)
    assert outbox.failed(b, "w", None, "ConnectError")
    assert outbox.claim("w", 10, 60) == []  # a is not due yet, b failed
    assert outbox.counts()[PENDING] == {"case.opened": 1}
    assert outbox.counts()[FAILED] == {"case.opened": 1}
    (failure,) = outbox.failures()
    assert (failure.id, failure.last_error, failure.attempts) == (b.id, "ConnectError", 1)
    clock.advance(30)
    (due,) = outbox.claim("w", 10, 60)
    assert due.id == a.id
    assert due.attempts == 1
    assert outbox.delivered(due, "w", 204)
    assert outbox.replay(failed=True) == 1
    (replayed,) = outbox.claim("w", 10, 60)
    assert replayed.delivery_id == b.delivery_id  # same id: the CRM can tell a repeat
    assert outbox.delivered(replayed, "w", 200)
    assert outbox.replay(ids=[a.id]) == 1  # a delivered one, by id
    (again,) = outbox.claim("w", 10, 60)
    assert outbox.delivered(again, "w", 200)
    assert set(states(engine).values()) == {DELIVERED}
    clock.advance(100)
    assert outbox.prune(keep_seconds=1000) == 0
    clock.advance(1000)
    assert outbox.prune(keep_seconds=1000) == 2


def test_postpone_gives_deliveries_back_unsent_and_hurry_makes_them_due(engine: Engine) -> None:
    clock = Clock()
    outbox = Outbox(engine, clock)
    add(outbox, item("a"), item("b"))
    a, b = outbox.claim("w", 10, 60)
    outbox.retry(a, "w", None, "ConnectError", clock.now + 600)
    assert outbox.postpone([b], "w", clock.now + 600) == 1
    assert outbox.claim("w", 10, 60) == []
    assert outbox.hurry() == 1  # only a failed one is hurried; b was never tried
    (due,) = outbox.claim("w", 10, 60)
    assert due.id == a.id


def test_an_erased_delivery_is_never_sent_nor_replayed(engine: Engine) -> None:
    outbox = Outbox(engine, Clock())
    add(outbox, item("a"))
    with engine.begin() as connection:
        connection.execute(webhook_deliveries.update().values(state=ERASED, payload="{}"))
    assert outbox.claim("w", 10, 60) == []
    assert outbox.replay(ids=[1], failed=True) == 0
