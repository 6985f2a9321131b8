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


async def test_a_plain_reason_asks_to_confirm(domain_dict) -> None:
    slots, _ = await validate(
        tracker(JOHN, {"return_reason": "me quedan chicas"}, form=FORM), domain_dict
    )
    assert slots["requested_slot"] == "return_confirmed"


async def test_the_reason_in_the_first_message_is_not_asked_again(domain_dict) -> None:
    first = tracker(
        text="quiero devolver las zapatillas del 10002, me quedaron chicas",
        intent="return_request",
        entities=[{"entity": "order_id", "value": "10002"}],
        form=FORM,
    )
    slots, _ = await validate(first, domain_dict)
    assert slots["return_reason"] == "me quedaron chicas"  # the reason, not the request


@pytest.mark.parametrize(
    "text",
    [
        "the sneakers from 10002 came with the sole coming off, i want to return them",
        "quiero devolver el 10002, la suela se esta despegando",
        "devuelvo el 10002 xq se esta descosiendo",
    ],
)
async def test_damage_still_happening_is_a_reason_and_asks_for_a_photo(
    domain_dict, text: str
) -> None:
    first = tracker(
        text=text,
        intent="return_request",
        entities=[{"entity": "order_id", "value": "10002"}],
        form=FORM,
    )
    slots, _ = await validate(first, domain_dict)
    assert is_damage(slots["return_reason"])


async def test_an_aside_at_why_is_no_reason(domain_dict) -> None:
    aside = tracker(
        JOHN,
        text="haha sorry my dog is barking like crazy 🐶",
        requested="return_reason",
        form=FORM,
    )
    slots, said = await validate(aside, domain_dict)
    assert slots.get("return_reason") is None
    assert said == ["utter_form_aside"]
    assert slots["requested_slot"] == "return_reason"


async def test_a_new_reason_at_the_confirmation_replaces_the_old(domain_dict) -> None:
    reply = tracker(
        {**JOHN, "return_reason": "no me gusto"},
        text="bueno en realidad es que me quedaron grandes",
        requested="return_confirmed",
        form=FORM,
    )
    slots, _ = await validate(reply, domain_dict)
    assert slots["return_reason"] == "bueno en realidad es que me quedaron grandes"
    assert slots.get("return_confirmed") is None
    assert slots["requested_slot"] == "return_confirmed"


async def test_a_damage_said_at_the_confirmation_asks_for_a_photo(domain_dict) -> None:
    reply = tracker(
        {**JOHN, "return_reason": "no me gusto"},
        text="and actually the sole came apart",
        requested="return_confirmed",
        form=FORM,
    )
    slots, _ = await validate(reply, domain_dict)
    assert slots["requested_slot"] == "return_photo"


@pytest.mark.parametrize("answer", ["no", "mmm mejor no", "espera, lo pienso"])
async def test_no_return_without_a_clear_yes(domain_dict, answer: str) -> None:
    reply = tracker(
        {**JOHN, "return_reason": "me quedan chicas"},
        text=answer,
        requested="return_confirmed",
        form=FORM,
    )
    slots, _ = await validate(reply, domain_dict)
    assert slots.get("return_confirmed") is not True
    messages, events = await create(
        {**JOHN, "return_reason": "me quedan chicas", "return_confirmed": False}, domain_dict
    )
    assert messages[0]["response"] == "utter_return_kept"
    assert events["return_outcome"] == "refused"


async def test_the_return_is_opened_with_a_number_after_a_yes(domain_dict) -> None:
    yes = tracker(
        {**JOHN, "return_reason": "me quedan chicas"},
        text="si, abrela",
        requested="return_confirmed",
        form=FORM,
    )
    slots, _ = await validate(yes, domain_dict)
    assert slots["return_confirmed"] is True
    confirmed = {**JOHN, "return_reason": "me quedan chicas", "return_confirmed": True}
    messages, events = await create(confirmed, domain_dict)
    assert messages[0]["response"] == "utter_return_created"
    assert messages[0]["return_number"].startswith("R-")
    assert events["return_outcome"] == "created"
    assert events["return_reason"] is None  # the next return asks its own reason
    again, events = await create(confirmed, domain_dict)
    assert again[0]["response"] == "utter_return_exists"
    assert again[0]["return_number"] == messages[0]["return_number"]


async def test_a_damaged_item_goes_to_a_person_without_a_return(domain_dict) -> None:
    slots = {**JOHN, "return_reason": "arrived damaged", "return_photo": "received"}
    messages, events = await create(slots, domain_dict)
    assert messages[0]["response"] == "utter_return_damaged"
    assert events["return_outcome"] == "damaged"
    assert events["handoff_reason"] == "damaged_item"
    assert "return_reason" not in events  # the person's case is built from it


async def test_a_photo_answering_why_is_a_damaged_item(domain_dict) -> None:
    photo = tracker(JOHN, text="asi llegaron", requested="return_reason", form=FORM)
    photo.events[0]["metadata"] = {"media": [{"url": "http://x/f.jpg", "refused": None}]}
    slots, _ = await validate(photo, domain_dict)
    assert slots["return_reason"] == "asi llegaron"
    assert slots["return_photo"] == "received"
    assert slots["requested_slot"] is None  # straight to a person


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
        ("la suela se despegó", True),
        ("came apart after one wash", True),
        ("one of the sneakers has a tear on the side", True),
        ("me queda chica", False),
        ("no me gustó el color", False),
        ("wrong size", False),
        (None, False),
    ],
)
def test_is_damage(reason: str | None, damaged: bool) -> None:
    assert is_damage(reason) is damaged
