"""Placing an order: what is read from the first message, validation, corrections, the order."""

from __future__ import annotations

import os
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.commerce.backend import OrderStatus
from actions.orders import common
from actions.orders.place import (
    ActionAskOrderConfirmed,
    ActionAskProductColour,
    ActionPlaceOrder,
    ValidatePlaceOrderForm,
    with_singulars,
)
from tests.unit.actions.support import slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")

FORM = "place_order_form"
ADDRESS = ("delivery_street", "delivery_city", "delivery_postal_code")
FILLED = {
    "product": "zapatillas-urbanas",
    "product_size": "42",
    "product_colour": "blanco",
    "quantity": 2.0,
    "customer_name": "Ana Martínez",
    "delivery_street": "Av. Insurgentes Sur 1234, Del Valle",
    "delivery_city": "Ciudad de México",
    "delivery_postal_code": "03100",
    "contact": "email:ana.m@gmail.com",
    "delivery_option": "standard",
    "payment_method": "oxxo",
}


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidatePlaceOrderForm(), t, domain)


def opening(text: str, entities: list[dict[str, Any]] | None = None, **kwargs: Any):
    return tracker(text=text, intent="place_order", entities=entities, form=FORM, **kwargs)


async def test_the_first_message_fills_product_variant_and_quantity(domain_dict) -> None:
    first = opening(
        "quiero 2 zapatillas urbanas blancas talla 42",
        [
            {"entity": "quantity", "value": "2"},
            {"entity": "product", "value": "zapatillas urbanas"},
        ],
    )
    slots, said = await validate(first, domain_dict)
    assert slots["product"] == "zapatillas-urbanas"
    assert slots["product_size"] == "42"
    assert slots["product_colour"] == "blanco"
    assert slots["quantity"] == 2.0
    assert slots["requested_slot"] == "customer_name"
    assert said == []


async def test_a_typo_still_finds_the_product(domain_dict) -> None:
    slots, _ = await validate(opening("kiero unas sapatillas urbanas"), domain_dict)
    assert slots["product"] == "zapatillas-urbanas"
    assert slots["requested_slot"] == "product_size"


async def test_an_ambiguous_product_is_offered_as_buttons(domain_dict) -> None:
    dispatcher = CollectingDispatcher()
    await ValidatePlaceOrderForm().run(dispatcher, opening("quiero unos jeans"), domain_dict)
    [message] = dispatcher.messages
    assert message["response"] == "utter_choose_product"
    titles = [button["title"] for button in message["buttons"]]
    assert "Jeans slim" in titles
    assert "Jeans rectos" in titles


async def test_an_unknown_product_is_said(domain_dict) -> None:
    asked = tracker(text="un helicoptero", requested="product", form=FORM)
    slots, said = await validate(asked, domain_dict)
    assert said == ["utter_product_not_found"]
    assert slots["requested_slot"] == "product"


async def test_an_out_of_stock_product_is_refused(domain_dict) -> None:
    asked = tracker(text="la chaqueta impermeable", requested="product", form=FORM)
    slots, said = await validate(asked, domain_dict)
    assert said == ["utter_product_out_of_stock"]
    assert slots["product"] is None


async def test_an_out_of_stock_variant_offers_what_there_is(domain_dict) -> None:
    # A sold-out variant whose size still has another colour in stock (found, not assumed).
    store = common.store()
    product, sold_out = next(
        (product, variant)
        for product in (store.get_product(slug) for slug in all_product_slugs())
        for variant in product.variants
        if variant.stock == 0
        and any(v.stock > 0 and v.size == variant.size for v in product.variants)
    )
    answer = tracker(
        {"product": product.id, "product_size": sold_out.size},
        {"product_colour": sold_out.colour},
        requested="product_colour",
        form=FORM,
    )
    dispatcher = CollectingDispatcher()
    events = await ValidatePlaceOrderForm().run(dispatcher, answer, domain_dict)
    assert dispatcher.messages[0]["response"] == "utter_variant_out_of_stock"
    assert sold_out.colour not in dispatcher.messages[0]["options"]
    assert slot_events(events)["product_colour"] is None


def all_product_slugs() -> list[str]:
    """Every product id in the test store."""
    from sqlalchemy import select

    from actions.commerce.database import make_engine
    from actions.commerce.models import Product

    engine = make_engine(os.environ["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(Product.slug)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", [0.0, -1.0, 11.0, 500.0])
async def test_impossible_quantities_are_asked_again(domain_dict, value: float) -> None:
    answer = tracker(
        {k: FILLED[k] for k in ("product", "product_size", "product_colour")},
        {"quantity": value},
        requested="quantity",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["quantity"] is None
    assert said == ["utter_quantity_invalid"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@example", None),
        ("<script>@x.com", None),
        ("123", None),
        ("ANA.M@Gmail.com", "email:ana.m@gmail.com"),
        ("55 1234 5678", "phone:+525512345678"),
        ("+54 9 11 5555 1234", "phone:+5491155551234"),
    ],
)
async def test_contact_is_a_valid_phone_or_email(
    domain_dict, text: str, expected: str | None
) -> None:
    answer = tracker({**FILLED, "contact": None}, text=text, requested="contact", form=FORM)
    slots, said = await validate(answer, domain_dict)
    assert slots["contact"] == expected
    if expected is None:
        assert said == ["utter_contact_invalid"]


async def test_whatsapp_customers_are_not_asked_for_a_contact(domain_dict) -> None:
    filled = {**FILLED, "contact": None}
    answer = tracker(
        filled,
        text="OXXO",
        requested="payment_method",
        sender="whatsapp:+5215512345678",
        channel="whatsapp",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["requested_slot"] == "order_confirmed"


async def test_the_summary_has_the_totals(domain_dict) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskOrderConfirmed().run(dispatcher, tracker(FILLED, form=FORM), domain_dict)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_ask_order_confirmed"
    assert summary["line"] == "2 × Zapatillas urbanas (42, blanco)"
    assert summary["payment_shown"] == "efectivo en OXXO"
    assert summary["total"].endswith("MXN")


async def test_a_named_correction_forgets_only_that(domain_dict) -> None:
    answer = tracker(
        FILLED,
        text="no, la direccion es otra",
        intent="deny",
        requested="order_confirmed",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert said == ["utter_order_correction"]
    assert slots["delivery_street"] is None
    assert slots["delivery_postal_code"] is None
    assert "customer_name" not in slots
    assert slots["requested_slot"] == "delivery_street"


async def test_a_bare_no_asks_what_to_fix(domain_dict) -> None:
    answer = tracker(FILLED, text="no", intent="deny", requested="order_confirmed", form=FORM)
    slots, _ = await validate(answer, domain_dict)
    assert slots["order_correction_pending"] is True
    assert slots["requested_slot"] == "order_confirmed"
    dispatcher = CollectingDispatcher()
    events = await ActionAskOrderConfirmed().run(
        dispatcher, tracker({**FILLED, "order_correction_pending": True}, form=FORM), domain_dict
    )
    assert dispatcher.messages[0]["response"] == "utter_ask_what_to_correct"
    assert slot_events(events)["order_correction_pending"] is None


async def test_forget_it_at_the_summary_drops_the_order(domain_dict) -> None:
    answer = tracker(
        FILLED, text="mejor olvidalo", intent="deny", requested="order_confirmed", form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["flow_dropped"] is True
    assert slots["requested_slot"] is None
    dispatcher = CollectingDispatcher()
    await ActionPlaceOrder().run(
        dispatcher, tracker({**FILLED, "flow_dropped": True}, form=FORM), domain_dict
    )
    assert dispatcher.messages[0]["response"] == "utter_order_abandoned"


async def test_confirmed_order_is_created_pending_payment_and_stock_taken(domain_dict) -> None:
    store = common.store()
    before = next(
        v
        for v in store.get_product("zapatillas-urbanas").variants
        if v.size == "42" and v.colour == "blanco"
    )
    dispatcher = CollectingDispatcher()
    events = await ActionPlaceOrder().run(
        dispatcher, tracker({**FILLED, "order_confirmed": True}, form=FORM), domain_dict
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_placed_oxxo"
    order = store.get_order(message["order_id"])
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.email == "ana.m@gmail.com"
    after = next(v for v in store.get_product("zapatillas-urbanas").variants if v.sku == before.sku)
    assert after.stock == before.stock - 2
    slots = slot_events(events)
    assert slots["order_id"] == order.number
    assert slots["product"] is None
    assert "customer_name" not in slots  # kept for the next order: nothing asked twice


async def test_colour_buttons_list_colours_in_stock_in_english(domain_dict) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(
        {"product": "zapatillas-urbanas", "product_size": "42", "language": "en"}, form=FORM
    )
    await ActionAskProductColour().run(dispatcher, t, domain_dict)
    titles = {button["title"] for button in dispatcher.messages[0]["buttons"]}
    assert titles <= {"white", "black"}
    assert titles


def test_with_singulars_reads_agreeing_colours() -> None:
    assert "blanco" in with_singulars("blancas").split()
    assert "negro" in with_singulars("Negros").split()
    assert "gris" in with_singulars("grises").split()


@pytest.mark.parametrize(
    ("slot", "text", "intent", "value"),
    [
        ("delivery_option", "Express", "faq", "express"),
        ("delivery_option", "Estándar", "faq", "standard"),
        ("payment_method", "OXXO", "out_of_scope", "oxxo"),
        ("payment_method", "con tarjeta de credito", "inform", "card"),
        ("product_colour", "white", "out_of_scope", "blanco"),
    ],
)
async def test_short_answers_to_choices_are_read_whatever_the_intent(
    domain_dict, slot: str, text: str, intent: str, value: str
) -> None:
    filled = {k: v for k, v in FILLED.items() if k != slot}
    if slot == "product_colour":
        filled = {"product": "zapatillas-urbanas", "product_size": "42"}
    answer = tracker(filled, text=text, intent=intent, requested=slot, form=FORM)
    slots, _ = await validate(answer, domain_dict)
    assert slots[slot] == value


# ---------------------------------------------------------------- answers about other questions


def before(*slots: str) -> dict[str, Any]:
    """FILLED up to (not including) the first of `slots`, which are left empty."""
    return {k: v for k, v in FILLED.items() if k not in slots}


async def test_delivery_and_payment_in_one_answer(domain_dict) -> None:
    answer = tracker(
        before("delivery_option", "payment_method"),
        text="express, y pago con tarjeta",
        intent="nlu_fallback",
        requested="delivery_option",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["delivery_option"] == "express"
    assert slots["payment_method"] == "card"
    assert slots["requested_slot"] == "order_confirmed"


async def test_a_phone_at_the_address_question_is_the_contact(domain_dict) -> None:
    empty = ("delivery_street", "delivery_city", "delivery_postal_code", "contact")
    answer = tracker(
        before(*empty, "delivery_option", "payment_method"),
        {"delivery_street": "8187654321"},
        text="8187654321",
        entities=[{"entity": "phone", "value": "8187654321"}],
        requested="delivery_street",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["contact"] == "phone:+528187654321"
    assert slots["delivery_street"] is None
    assert said == ["utter_answer_noted"]
    assert slots["requested_slot"] == "delivery_street"


async def test_a_payment_method_at_the_city_question_is_the_payment(domain_dict) -> None:
    answer = tracker(
        before("delivery_city", "delivery_postal_code", "delivery_option", "payment_method"),
        {"delivery_city": "mercado pago"},
        text="mercado pago",
        requested="delivery_city",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["payment_method"] == "mercado_pago"
    assert slots["delivery_city"] is None
    assert slots["requested_slot"] == "delivery_city"
    assert said == ["utter_answer_noted"]


async def test_a_colour_changed_in_passing_is_said_back(domain_dict) -> None:
    answer = tracker(
        before("payment_method"),
        text="no espera, cambia el color a negro",
        intent="change_order",
        requested="payment_method",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["product_colour"] == "negro"
    assert said == ["utter_order_detail_changed"]
    assert slots["requested_slot"] == "payment_method"


async def test_a_new_size_at_the_name_question_is_no_name(domain_dict) -> None:
    filled = {"product": "camiseta-basica", "product_size": "M", "product_colour": "gris"}
    answer = tracker(
        {**filled, "quantity": 1.0},
        text="ah y siempre no, mejor en L",
        requested="customer_name",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["product_size"] == "L"
    assert slots.get("customer_name") is None
    assert said == ["utter_order_detail_changed"]
    assert slots["requested_slot"] == "customer_name"


async def test_a_new_colour_at_the_address_question_leaves_the_address_open(domain_dict) -> None:
    # Rasa's from_text mapping has already put the message into the slot asked for.
    answer = tracker(
        before("delivery_street"),
        {"delivery_street": "ah oye, mejor q sean negras"},
        text="ah oye, mejor q sean negras",
        requested="delivery_street",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["product_colour"] == "negro"
    assert slots["delivery_street"] is None
    assert said == ["utter_order_detail_changed"]
    assert slots["requested_slot"] == "delivery_street"


async def test_a_field_said_wrong_mid_form_is_asked_again(domain_dict) -> None:
    answer = tracker(
        before("delivery_postal_code", "contact", "delivery_option", "payment_method"),
        {"delivery_postal_code": "the size is wrong, sorry"},
        text="the size is wrong, sorry",
        requested="delivery_postal_code",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert said == ["utter_order_correction"]
    assert slots["product_size"] is None
    assert slots["requested_slot"] == "product_size"


@pytest.mark.parametrize(
    "text",
    [
        "esperame tantito, deja le pregunto a mi esposa si le late el color",
        "hmm how long do I have to pay at the oxxo?",
    ],
)
async def test_a_hold_or_question_at_the_summary_fixes_nothing(domain_dict, text: str) -> None:
    answer = tracker(FILLED, text=text, requested="order_confirmed", form=FORM)
    slots, said = await validate(answer, domain_dict)
    assert "utter_order_correction" not in said
    assert all(slots.get(name, value) == value for name, value in FILLED.items())
    assert slots.get("order_confirmed") is None


async def test_pickup_and_store_in_the_first_message_skip_the_address(domain_dict) -> None:
    first = opening(
        "hey i wanna buy white urban sneakers size 41, i'll pick them up at your Monterrey store",
        [{"entity": "product", "value": "urban sneakers"}],
    )
    slots, _ = await validate(first, domain_dict)
    assert slots["delivery_option"] == "pickup"
    assert slots["pickup_store"] == "mty"
    assert slots["requested_slot"] == "quantity"


async def test_the_whole_message_settles_an_entity_that_fits_several(domain_dict) -> None:
    first = opening(
        "i want to buy some basic t-shirts", [{"entity": "product", "value": "t-shirts"}]
    )
    slots, said = await validate(first, domain_dict)
    assert slots["product"] == "camiseta-basica"
    assert "utter_choose_product" not in said


@pytest.mark.parametrize(
    ("product", "quantity"), [("camiseta-basica", 2), ("zapatillas-urbanas", 1)]
)
async def test_a_pair(domain_dict, product: str, quantity: int) -> None:
    answer = tracker(
        {"product": product}, text="L in navy blue, a pair pls", requested="product_size", form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["quantity"] == quantity


async def test_a_name_with_the_whole_address_and_email(domain_dict) -> None:
    text = "Diego Alvarez, Av. Reforma 222, Col. Juarez, Mexico City, 06600, diego.af@gmail.com"
    answer = tracker(
        before("customer_name", *ADDRESS, "contact", "delivery_option", "payment_method"),
        text=text,
        requested="customer_name",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["customer_name"] == "Diego Alvarez"
    assert slots["delivery_street"].startswith("Av. Reforma 222")
    assert slots["delivery_city"] == "Mexico City"
    assert slots["delivery_postal_code"] == "06600"
    assert slots["contact"] == "email:diego.af@gmail.com"
    assert slots["requested_slot"] == "delivery_option"


async def test_an_address_with_a_phone_fills_both(domain_dict) -> None:
    text = "Calle Amsterdam 210, Hipodromo Condesa, CDMX, CP 06100. mi fono 55 3344 9988"
    answer = tracker(
        before(*ADDRESS, "contact", "delivery_option", "payment_method"),
        {"delivery_street": text},
        text=text,
        requested="delivery_street",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert "fono" not in slots["delivery_street"]
    assert slots["delivery_postal_code"] == "06100"
    assert slots["contact"] == "phone:+525533449988"
    assert slots["requested_slot"] == "delivery_option"


@pytest.mark.parametrize("text", ["btw am i talking to a bot? lol", "y eso cuanto tarda?"])
async def test_a_question_is_no_name(domain_dict, text: str) -> None:
    answer = tracker(
        before("customer_name", *ADDRESS, "contact", "delivery_option", "payment_method"),
        text=text,
        intent="bot_challenge",
        requested="customer_name",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots.get("customer_name") is None


async def test_a_choice_and_a_question_get_both(domain_dict) -> None:
    answer = tracker(
        before("delivery_option", "payment_method"),
        text="express pls. how much extra is that?",
        intent="faq",
        requested="delivery_option",
        form=FORM,
    )
    answer.latest_message["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/delivery_costs", "confidence": 0.9}}
    }
    slots, said = await validate(answer, domain_dict)
    assert slots["delivery_option"] == "express"
    assert said == ["utter_faq/delivery_costs"]
    assert slots["requested_slot"] == "payment_method"


async def test_a_choice_at_the_contact_question_is_no_contact(domain_dict) -> None:
    answer = tracker(
        before("contact", "delivery_option", "payment_method"),
        text="ya, entonces con tarjeta no mas",
        requested="contact",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert slots["payment_method"] == "card"
    assert slots.get("contact") is None
    assert "utter_contact_invalid" not in said


async def test_a_pause_mid_form_keeps_everything(domain_dict) -> None:
    answer = tracker(
        before("contact", "delivery_option", "payment_method"),
        text="mmm dejame pensarlo, es harta plata cachai",
        requested="contact",
        form=FORM,
    )
    slots, said = await validate(answer, domain_dict)
    assert said == ["utter_form_hold"]
    assert slots.get("flow_dropped") is None
    assert slots["requested_slot"] == "contact"


@pytest.mark.parametrize(
    ("text", "quantity"),
    [("I need 12 black basic t-shirts size XL", 12), ("quiero dos playeras negras talla M", 2)],
)
async def test_a_count_before_the_product(domain_dict, text: str, quantity: int) -> None:
    slots, said = await validate(
        opening(text, [{"entity": "product", "value": "t-shirts"}]), domain_dict
    )
    if quantity > 10:
        assert "utter_quantity_invalid" in said
        assert slots.get("quantity") is None
    else:
        assert slots["quantity"] == quantity


async def test_that_they_be_three_at_the_summary(domain_dict) -> None:
    filled = {**FILLED, "product": "camiseta-basica", "product_size": "L", "product_colour": "gris"}
    answer = tracker(
        filled,
        text="ay no espera, mejor en azul marino y que sean 3",
        requested="order_confirmed",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["product_colour"] == "azul marino"
    assert slots["quantity"] == 3


async def test_two_of_them(domain_dict) -> None:
    answer = tracker(
        {"product": "camiseta-basica"},
        text="L, white, two of them",
        requested="product_size",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert (slots["product_size"], slots["product_colour"], slots["quantity"]) == ("L", "blanco", 2)


async def test_a_fix_and_the_contact_in_one_answer(domain_dict) -> None:
    answer = tracker(
        before("contact", "delivery_option", "payment_method"),
        text="actually wait, size 43 is wrong, i need a 42. my email is laura.kim@example.com",
        requested="contact",
        form=FORM,
    )
    answer.slots["product_size"] = "43"
    slots, _ = await validate(answer, domain_dict)
    assert slots["product_size"] == "42"
    assert slots["contact"] == "email:laura.kim@example.com"


async def test_a_question_about_express_does_not_choose_it(domain_dict) -> None:
    first = opening(
        "do u do express to monterrey? how much is it? i want one pair of the white urban"
        " sneakers size 40",
        [{"entity": "product", "value": "urban sneakers"}],
    )
    slots, _ = await validate(first, domain_dict)
    assert slots.get("delivery_option") is None


@pytest.mark.parametrize(
    ("text", "name", "street"),
    [
        ("jaja perdon se me cayo el cel. me llamo Fernanda Ruiz", "Fernanda Ruiz", None),
        ("Av. Vallarta 1500, Guadalajara, jal, 44190", None, "Av. Vallarta 1500"),
    ],
)
async def test_what_the_name_question_gets(
    domain_dict, text: str, name: str | None, street: str | None
) -> None:
    answer = tracker(
        before("customer_name", *ADDRESS, "contact", "delivery_option", "payment_method"),
        text=text,
        requested="customer_name",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots.get("customer_name") == name
    if street:
        assert slots["delivery_street"].startswith(street)


async def test_a_yes_is_no_name(domain_dict) -> None:
    answer = tracker(
        before("customer_name", *ADDRESS, "contact", "delivery_option", "payment_method"),
        text="ya, si va, confirmo",
        intent="affirm",
        requested="customer_name",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots.get("customer_name") is None


async def test_a_name_and_email_in_the_opening_request_are_not_asked_for(domain_dict) -> None:
    first = opening(
        "quiero 1 zapatillas urbanas blancas talla 42. name is Laura Chen, "
        "email laura.chen@outlook.com",
        [
            {"entity": "quantity", "value": "1"},
            {"entity": "product", "value": "zapatillas urbanas"},
        ],
    )
    slots, _ = await validate(first, domain_dict)
    assert slots["customer_name"] == "Laura Chen"
    assert slots["contact"] == "email:laura.chen@outlook.com"
    assert slots["requested_slot"] not in ("customer_name", "contact")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("just one pair. name is Daniel Kim", "Daniel Kim"),
        ("nomas un par, a nombre de Jorge Trevino", "Jorge Trevino"),
        ("uno solo, me llamo Martin Sosa y lo pago con tarjeta", "Martin Sosa"),
    ],
)
async def test_a_name_said_while_answering_another_question_is_kept(
    domain_dict, text: str, name: str
) -> None:
    answer = tracker(
        before("quantity", "customer_name"), text=text, requested="quantity", form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["customer_name"] == name
    assert slots["quantity"] == 1.0


@pytest.mark.parametrize("text", ["quiero un buzo gris talle L, uno solo", "una sola porfa"])
async def test_one_said_after_the_product_is_the_quantity(domain_dict, text: str) -> None:
    answer = tracker(before("quantity"), text=text, requested="quantity", form=FORM)
    slots, _ = await validate(answer, domain_dict)
    assert slots["quantity"] == 1.0


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("negro... no, mejor gris", "product_colour", "gris"),
        ("la S, no, perdon, la M", "product_size", "M"),
    ],
)
async def test_a_value_corrected_as_it_is_typed_takes_the_second(
    domain_dict, text: str, slot: str, value: str
) -> None:
    answer = tracker(
        {"product": "camiseta-basica"}, text=text, intent="inform", requested=slot, form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots[slot] == value
