"""A second request of the same message, answered when the first flow ends (pending.py)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.orders.invoice
import actions.orders.status  # registers the status answer
from actions.orders.common import store
from actions.orders.pending import after_flow, pending_intent, pending_value
from tests.unit.actions.support import proven, responses, slot_events, tracker

pytestmark = pytest.mark.usefixtures("demo_store")

ANA = {"verified_contact": proven("email", "ana@example.com")}


def finish(pending: str, order_number: str, done: str) -> tuple[list[str], dict]:
    dispatcher = CollectingDispatcher()
    events = after_flow(
        dispatcher,
        tracker({**ANA, "pending_request": pending}),
        store().get_order(order_number),
        done=done,
    )
    told = [m.get("order_id") for m in dispatcher.messages if m.get("order_id")]
    return [*responses(dispatcher), *told], slot_events(events)


def test_the_pending_request_is_about_the_order_it_named() -> None:
    # "Where's 10001, and cancel 10005": the cancellation of 10005 ran first.
    said, slots = finish(pending_value("order_status", "10001"), "10005", "cancel_order")
    assert said[0] == "utter_order_shipped"
    assert "10001" in said
    assert "10005" not in said
    assert slots["pending_request"] is None


def test_an_order_not_proven_is_not_told() -> None:
    # 10002 is John's: Ana's proof does not open it.
    said, slots = finish(pending_value("order_status", "10002"), "10005", "cancel_order")
    assert said == []
    assert slots["pending_request"] is None


def test_without_a_number_the_flow_order_is_meant() -> None:
    said, _ = finish("invoice_request", "10001", "order_status")
    assert said == ["utter_invoice_ready", "10001"]


def test_the_request_the_flow_just_served_is_not_repeated() -> None:
    said, _ = finish(pending_value("order_status", "10001"), "10001", "order_status")
    assert said == []


def test_pending_intent() -> None:
    assert pending_intent(tracker({"pending_request": "order_status:10001"})) == "order_status"
    assert pending_intent(tracker({"pending_request": "invoice_request"})) == "invoice_request"
    assert pending_intent(tracker({"pending_request": None})) is None
    # Both answers are registered by importing their modules.
    assert actions.orders.invoice.send_invoice
    assert actions.orders.status.tell_status
