"""Returns: reason only when returnable, a photo for damaged items, honest refusals."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.orders.returns import ActionCreateReturn, ValidateReturnForm, is_damage
from tests.unit.actions.support import proven, slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")

FORM = "return_form"
JOHN = {"order_id": "10002", "verified_contact": proven("email", "john@example.com")}


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidateReturnForm(), t, domain)


async def create(slots: dict[str, Any], domain: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionCreateReturn().run(dispatcher, tracker(slots, form=FORM), domain)
    return dispatcher.messages, slot_events(events)


async def test_a_delivered_order_asks_for_the_reason(domain_dict) -> None:
    proof = tracker({"order_id": "10002"}, {"order_verification": "john@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["requested_slot"] == "return_reason"


async def test_a_damaged_item_asks_for_a_photo(domain_dict) -> None:
    reason = tracker(JOHN, {"return_reason": "llegaron rotas de la suela"}, form=FORM)
    slots, _ = await validate(reason, domain_dict)
    assert slots["requested_slot"] == "return_photo"


async def test_a_plain_reason_completes_the_form(domain_dict) -> None:
    slots, _ = await validate(
        tracker(JOHN, {"return_reason": "me quedan chicas"}, form=FORM), domain_dict
    )
    assert slots["requested_slot"] is None


async def test_the_return_is_opened_with_a_number(domain_dict) -> None:
    messages, events = await create({**JOHN, "return_reason": "me quedan chicas"}, domain_dict)
    assert messages[0]["response"] == "utter_return_created"
    assert messages[0]["return_number"].startswith("R-")
    assert events["return_outcome"] == "created"
    again, events = await create({**JOHN, "return_reason": "otra vez"}, domain_dict)
    assert again[0]["response"] == "utter_return_exists"
    assert again[0]["return_number"] == messages[0]["return_number"]


async def test_a_damaged_item_opens_the_return_and_goes_to_a_person(domain_dict) -> None:
    slots = {**JOHN, "return_reason": "arrived damaged", "return_photo": "received"}
    messages, events = await create(slots, domain_dict)
    assert messages[0]["response"] == "utter_return_damaged"
    assert events["return_outcome"] == "damaged"
    assert events["handoff_reason"] == "damaged_item"


async def test_outside_the_window_says_until_when(domain_dict) -> None:
    slots = {"order_id": "10004", "verified_contact": proven("email", "ana@example.com")}
    proof = tracker({"order_id": "10004"}, {"order_verification": "ana@example.com"}, form=FORM)
    form_slots, _ = await validate(proof, domain_dict)
    assert form_slots["requested_slot"] is None
    messages, events = await create(slots, domain_dict)
    assert messages[0]["response"] == "utter_return_window_closed"
    assert messages[0]["deadline"].startswith("el ")
    assert events["return_outcome"] == "refused"


async def test_an_order_not_delivered_yet_cannot_be_returned(domain_dict) -> None:
    slots = {"order_id": "10001", "verified_contact": proven("email", "ana@example.com")}
    messages, _ = await create(slots, domain_dict)
    assert messages[0]["response"] == "utter_return_not_delivered"


@pytest.mark.parametrize(
    ("reason", "damaged"),
    [
        ("llegó dañado", True),
        ("vino roto el cierre", True),
        ("tiene una mancha", True),
        ("the zipper is broken", True),
        ("me queda chica", False),
        ("no me gustó el color", False),
        ("wrong size", False),
        (None, False),
    ],
)
def test_is_damage(reason: str | None, damaged: bool) -> None:
    assert is_damage(reason) is damaged
