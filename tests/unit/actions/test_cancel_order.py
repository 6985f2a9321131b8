"""Cancelling an order: confirmation only while possible, the store changes, honest replies."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.commerce.backend import OrderStatus
from actions.orders import common
from actions.orders.cancel import ActionCancelOrder, ValidateCancelOrderForm
from tests.unit.actions.support import proven, slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")

FORM = "cancel_order_form"


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidateCancelOrderForm(), t, domain)


async def cancel(slots: dict[str, Any], domain: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionCancelOrder().run(dispatcher, tracker(slots, form=FORM), domain)
    return dispatcher.messages, slot_events(events)


async def test_a_paid_order_asks_for_confirmation_after_verification(domain_dict) -> None:
    proof = tracker({"order_id": "10003"}, {"order_verification": "lucia@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["order_verification"] == "ok"
    assert slots["requested_slot"] == "cancel_confirmed"


async def test_a_shipped_order_skips_the_confirmation(domain_dict) -> None:
    proof = tracker({"order_id": "10001"}, {"order_verification": "ana@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["requested_slot"] is None


async def test_yes_cancels_a_paid_order_and_promises_the_refund(domain_dict) -> None:
    slots = {"order_id": "10003", "verified_contact": proven("email", "lucia@example.com")}
    messages, events = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_done_refund"
    assert messages[0]["total"].endswith("MXN")
    assert common.store().get_order("10003").status is OrderStatus.CANCELLED
    assert events["cancel_confirmed"] is None


async def test_an_unpaid_order_is_cancelled_without_refund(domain_dict) -> None:
    slots = {"order_id": "10005", "verified_contact": proven("email", "ana@example.com")}
    messages, _ = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_done"


async def test_no_keeps_the_order(domain_dict) -> None:
    slots = {"order_id": "10003", "verified_contact": proven("email", "lucia@example.com")}
    messages, _ = await cancel({**slots, "cancel_confirmed": False}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_kept"
    assert common.store().get_order("10003").status is OrderStatus.PAID


@pytest.mark.parametrize(("lang", "word"), [("es", "en camino"), ("en", "on its way")])
async def test_a_shipped_order_is_explained_with_return_or_person(
    domain_dict, lang: str, word: str
) -> None:
    slots = {
        "order_id": "10001",
        "verified_contact": proven("email", "ana@example.com"),
        "language": lang,
    }
    messages, _ = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_not_possible"
    assert messages[0]["status"] == word
    assert common.store().get_order("10001").status is OrderStatus.SHIPPED


async def test_an_already_cancelled_order_says_so(domain_dict) -> None:
    slots = {"order_id": "10007", "verified_contact": proven("phone", "+525520000001")}
    messages, _ = await cancel(slots, domain_dict)
    assert [m["response"] for m in messages] == ["utter_cancel_already"]


async def test_nothing_is_cancelled_without_proof(domain_dict) -> None:
    messages, events = await cancel({"order_id": "10003", "cancel_confirmed": True}, domain_dict)
    assert [m["response"] for m in messages] == ["utter_verification_blocked"]
    assert events["order_lookup_blocked"] == "verification_failed"
    assert common.store().get_order("10003").status is OrderStatus.PAID
