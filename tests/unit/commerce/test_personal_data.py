"""The store's part of a privacy request: orders kept for the books, the person taken out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from actions.commerce import personal_data
from actions.commerce.codes import proof_source
from actions.commerce.database import make_engine, migrate
from actions.commerce.seed import seed
from actions.commerce.sql import SqlCommerceBackend
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "commerce_personal") as url:
        migrate(url)
        made = make_engine(url)
        seed(made)
        yield made
        made.dispose()


def test_contacts_in_any_spelling_find_the_same_orders(engine: Engine) -> None:
    by_phone = personal_data.linked(engine, phones=["+52 1 55 1234 5678"])
    by_email = personal_data.linked(engine, emails=["ANA@example.com"])
    assert by_phone == by_email
    assert {"10001", "10004", "10005"} <= set(by_phone.order_numbers)
    assert by_phone.emails == ("ana@example.com",)
    orders = personal_data.orders_of(engine, emails=["ana@example.com"])
    assert {order["number"] for order in orders} == set(by_phone.order_numbers)
    assert orders[0]["created_at"] <= orders[-1]["created_at"]
    assert personal_data.linked(engine, phones=["no"], emails=["no"]) == personal_data.Linked()


def test_the_erasure_keeps_the_sale_and_only_this_persons_traces(engine: Engine) -> None:
    backend = SqlCommerceBackend(engine)
    ana, john = "twilio:whatsapp:+5215512345678", "twilio:whatsapp:+14155550123"
    backend.record_lookup_attempt(ana)
    backend.record_lookup_attempt(john)
    backend.record_verification_failure("10001", proof_source("twilio", ana))
    backend.record_verification_failure("10002", proof_source("twilio", john))
    assert backend.issue_code("10004", proof_source("", ana))
    counts = personal_data.erase(engine, emails=["ana@example.com"], conversation_ids=[ana])
    assert counts["lookup_attempts"] == counts["verification_failures"] == 1
    assert counts["one_time_codes"] == 1
    assert counts["orders"] >= 3
    assert backend.get_order("10001").total_cents > 0
    assert backend.get_order("10001").customer_name == ""
    assert backend.get_order("10002").customer_name == "John Smith"
    assert backend.verification_failures("10002", proof_source("twilio", john)).order == 1
    again = personal_data.erase(engine, emails=["ana@example.com"], conversation_ids=[ana])
    assert set(again.values()) == {0}
