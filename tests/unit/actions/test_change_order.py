"""Changing an order: the address while not shipped (with a correction), the rest to a person."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import common
from actions.orders.change import ActionChangeOrder, ValidateChangeOrderForm, change_kind_of
from tests.unit.actions.support import proven, slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")

FORM = "change_order_form"
LUCIA = {"order_id": "10003", "verified_contact": proven("email", "lucia@example.com")}


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidateChangeOrderForm(), t, domain)


async def change(slots: dict[str, Any], domain: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionChangeOrder().run(dispatcher, tracker(slots, form=FORM), domain)
    return dispatcher.messages, slot_events(events)


async def test_the_first_message_says_what_to_change(domain_dict) -> None:
    first = tracker(
        candidates={"order_id": "10003"},
        text="quiero cambiar la direccion de entrega del pedido 10003",
        intent="change_order",
        form=FORM,
    )
    slots, _ = await validate(first, domain_dict)
    assert slots["change_kind"] == "address"
    assert slots["requested_slot"] == "order_verification"


async def test_the_whole_address_in_one_answer_is_not_asked_again(domain_dict) -> None:
    answer = tracker(
        {**LUCIA, "change_kind": "address"},
        {"delivery_street": "Av. Juárez 1200, Centro, 72000"},
        text="Av. Juárez 1200, Centro, Puebla 72000",
        entities=[{"entity": "city", "value": "Puebla"}],
        requested="delivery_street",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["delivery_postal_code"] == "72000"
    assert slots["delivery_city"] == "Puebla"
    assert slots["requested_slot"] == "change_confirmed"


async def test_no_at_the_confirmation_asks_the_address_again(domain_dict) -> None:
    address = {
        "delivery_street": "Av. X 1",
        "delivery_city": "Puebla",
        "delivery_postal_code": "72000",
    }
    answer = tracker(
        {**LUCIA, "change_kind": "address", **address},
        {"change_confirmed": False},
        intent="deny",
        requested="change_confirmed",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert said == ["utter_address_correction"]
    assert slots["delivery_street"] is None
    assert slots["requested_slot"] == "delivery_street"


@pytest.mark.parametrize("postal_code", ["123", "abcde", "720001"])
async def test_a_bad_postal_code_is_asked_again(domain_dict, postal_code: str) -> None:
    answer = tracker(
        {**LUCIA, "change_kind": "address"},
        {"delivery_postal_code": postal_code},
        requested="delivery_postal_code",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["delivery_postal_code"] is None
    assert said == ["utter_postal_code_invalid"]


async def test_confirmed_address_is_saved_in_the_store(domain_dict) -> None:
    address = {
        "delivery_street": "Calle Zaragoza 88",
        "delivery_city": "Querétaro",
        "delivery_postal_code": "76000",
    }
    messages, events = await change(
        {**LUCIA, "change_kind": "address", "change_confirmed": True, **address}, domain_dict
    )
    assert messages[0]["response"] == "utter_change_address_done"
    assert events["change_outcome"] == "changed"
    order = common.store().get_order("10003")
    assert order.address.street == "Calle Zaragoza 88"
    assert order.address.postal_code == "76000"


@pytest.mark.parametrize("confirmed", [False, None])
async def test_without_a_clear_yes_the_address_is_never_changed(
    domain_dict, confirmed: bool | None
) -> None:
    before = common.store().get_order("10003").address
    new = {"delivery_street": "Calle Amores 1500", "delivery_city": "CDMX"}
    messages, events = await change(
        {
            **LUCIA,
            "change_kind": "address",
            "change_confirmed": confirmed,
            **new,
            "delivery_postal_code": "03100",
        },
        domain_dict,
    )
    assert messages[0]["response"] == "utter_change_kept"
    assert events["change_outcome"] == "kept"
    assert events["delivery_street"] is None
    assert common.store().get_order("10003").address == before


async def test_other_item_changes_go_to_a_person_with_the_reason(domain_dict) -> None:
    messages, events = await change({**LUCIA, "change_kind": "items"}, domain_dict)
    assert messages[0]["response"] == "utter_change_items_handoff"
    assert events["change_outcome"] == "handoff"
    assert events["handoff_reason"] == "order_change"


async def test_a_shipped_order_goes_to_a_person(domain_dict) -> None:
    proof = tracker({"order_id": "10001"}, {"order_verification": "ana@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["requested_slot"] is None
    slots = {
        "order_id": "10001",
        "verified_contact": proven("email", "ana@example.com"),
        "change_kind": "address",
    }
    messages, events = await change(slots, domain_dict)
    assert messages[0]["response"] == "utter_change_not_possible"
    assert events["change_outcome"] == "handoff"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("quiero cambiar la dirección", "address"),
        ("me mude, necesito que lo entreguen en otra casa", "address"),
        ("change the shipping address", "address"),
        ("quiero otra talla", "variant"),
        ("can I change the colour?", "variant"),
        ("quiero agregar otro producto", "items"),
        ("quiero cambiar mi pedido", None),
    ],
)
def test_change_kind_of(text: str, kind: str | None) -> None:
    assert change_kind_of(text) == kind


async def test_a_postal_code_is_not_taken_for_an_order_number(domain_dict) -> None:
    answer = tracker(
        {
            **LUCIA,
            "change_kind": "address",
            "delivery_street": "Av. X 1",
            "delivery_city": "Puebla",
        },
        {"delivery_postal_code": "72000"},
        text="72000",
        entities=[{"entity": "order_id", "value": "72000"}],
        requested="delivery_postal_code",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert "order_id" not in slots
    assert slots["delivery_postal_code"] == "72000"


def line_of(order_id: str):
    return common.store().get_order(order_id).items[0]


async def test_a_size_change_reads_the_new_size_and_confirms(domain_dict) -> None:
    line = line_of("10003")
    product = common.store().get_product(line.sku)
    other_size = next(
        v.size
        for v in product.variants
        if v.size != line.size and v.colour == line.colour and v.stock >= line.quantity
    )
    # 10003 has two items: the answer to "which item?" names it and the new size at once.
    answer = tracker(
        {**LUCIA, "change_kind": "variant"},
        text=f"el {line.product_name.lower()} en talla {other_size} porfa",
        requested="change_item",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["change_item"] == line.sku
    new = next(v for v in product.variants if v.sku == slots["change_new_variant"])
    assert (new.size, new.colour) == (other_size, line.colour)
    assert slots["requested_slot"] == "change_confirmed"


async def test_a_confirmed_variant_change_is_saved(domain_dict) -> None:
    order = common.store().get_order("10003")
    line = order.items[0]
    product = common.store().get_product(line.sku)
    new = next(v for v in product.variants if v.sku != line.sku and v.stock >= line.quantity)
    slots = {
        **LUCIA,
        "change_kind": "variant",
        "change_item": line.sku,
        "change_new_variant": new.sku,
        "change_confirmed": True,
    }
    messages, events = await change(slots, domain_dict)
    assert messages[0]["response"] == "utter_change_item_done"
    assert events["change_outcome"] == "changed"
    assert new.sku in {item.sku for item in common.store().get_order("10003").items}


async def test_no_at_the_variant_confirmation_asks_the_variant_again(domain_dict) -> None:
    line = line_of("10003")
    answer = tracker(
        {**LUCIA, "change_kind": "variant", "change_item": line.sku, "change_new_variant": "X"},
        {"change_confirmed": False},
        intent="deny",
        requested="change_confirmed",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["change_new_variant"] is None
    assert slots["requested_slot"] == "change_new_variant"


async def test_the_item_button_payload_picks_the_line(domain_dict) -> None:
    line = common.store().get_order("10003").items[1]
    answer = tracker(
        {**LUCIA, "change_kind": "variant"}, text=line.sku, requested="change_item", form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["change_item"] == line.sku
    assert slots["requested_slot"] == "change_new_variant"


async def test_the_new_address_in_the_request_is_not_asked_again(domain_dict) -> None:
    request = (
        "please change the delivery address for order 10003 to Av. Juarez 88, Centro, Puebla, 72000"
    )
    proof = tracker(
        {"order_id": "10003", "change_kind": "address"},
        {"order_verification": "lucia@example.com"},
        text="lucia@example.com",
        requested="order_verification",
        form=FORM,
    )
    proof.events.insert(0, {"event": "user", "text": request, "parse_data": {}})
    proof.events.insert(1, {"event": "active_loop", "name": FORM})
    slots, _ = await validate(proof, domain_dict)
    assert slots["delivery_street"] == "Av. Juarez 88, Centro, Puebla, 72000"
    assert slots["delivery_city"] == "Puebla"
    assert slots["delivery_postal_code"] == "72000"
    assert slots["requested_slot"] == "change_confirmed"


async def test_a_wrong_street_asks_only_the_street_again(domain_dict) -> None:
    address = {
        "delivery_street": "Calle Hidalgo 1205, col. Centro",
        "delivery_city": "Guadalajara",
        "delivery_postal_code": "44100",
    }
    answer = tracker(
        {**LUCIA, "change_kind": "address", **address},
        text="uy no, la calle esta mal",
        intent="deny",
        requested="change_confirmed",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert said == ["utter_address_correction"]
    assert slots["delivery_street"] is None
    assert "delivery_city" not in slots
    assert "delivery_postal_code" not in slots
    assert slots["requested_slot"] == "delivery_street"


async def test_the_new_address_answers_what_to_change(domain_dict) -> None:
    answer = tracker(
        LUCIA,
        text="Calle Durango 200, Roma Norte, Mexico City, 06700",
        requested="change_kind",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["change_kind"] == "address"
    assert slots["delivery_street"].startswith("Calle Durango 200")
    assert slots["delivery_postal_code"] == "06700"
    assert slots["requested_slot"] == "change_confirmed"


@pytest.mark.parametrize("text", ["quiero cambiar la direccion", "update the shipping adress"])
def test_address_typos_still_name_the_address(text: str) -> None:
    assert change_kind_of(text) == "address"


async def test_a_corrected_street_at_the_confirmation_is_confirmed_again(domain_dict) -> None:
    address = {
        "delivery_street": "Av. Vallarta 1020, col Americana, Guadalajara, Jalisco, CP 44600",
        "delivery_city": "Guadalajara",
        "delivery_postal_code": "44600",
    }
    answer = tracker(
        {**LUCIA, "change_kind": "address", **address},
        text="no espera, me equivoque en el numero, es Av. Vallarta 1200, lo demas igual",
        requested="change_confirmed",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["delivery_street"].startswith("Av. Vallarta 1200, col Americana")
    assert slots.get("change_confirmed") is None
    assert slots["requested_slot"] == "change_confirmed"


async def test_keeping_the_address_at_the_confirmation_ends_the_change(domain_dict) -> None:
    address = {"delivery_street": "Calle Amores 1500", "delivery_city": "CDMX"}
    answer = tracker(
        {**LUCIA, "change_kind": "address", **address, "delivery_postal_code": "03100"},
        text="no, espera, creo q mejor la dejo como estaba",
        requested="change_confirmed",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["change_confirmed"] is False
    assert slots["requested_slot"] is None


@pytest.mark.parametrize(("kind", "next_question"), [("address", "order_code"), ("variant", None)])
async def test_the_phone_digits_change_a_colour_but_not_an_address(
    domain_dict, kind: str, next_question: str | None
) -> None:
    """A new address needs a one-time code (or the email); a new size or colour does not."""
    digits = tracker(
        {"order_id": "10003", "change_kind": kind},
        {"order_verification": "los ultimos 4 son 1234"},
        requested="order_verification",
        form=FORM,
    )
    slots, _ = await validate(digits, domain_dict)
    assert slots["order_verification"] == "ok"
    assert (slots["requested_slot"] == "order_code") is (next_question == "order_code")
    messages, _ = await change(
        {
            "order_id": "10003",
            "verified_contact": proven("phone", "+5491155551234", method="digits"),
            "change_kind": "address",
            "change_confirmed": True,
            "delivery_street": "Av. X 1",
            "delivery_city": "Puebla",
            "delivery_postal_code": "72000",
        },
        domain_dict,
    )
    assert messages[0]["response"] == "utter_verification_blocked"
    assert "Av. X" not in common.store().get_order("10003").address.street
