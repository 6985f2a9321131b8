"""The trained model on messages that are not in the training data."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

# Written for these tests, not copied from data/. The bar is not 100 %: NLU is statistical
# and the NLU report (docs/nlu.md) holds the real numbers; these catch a broken model.
UNSEEN = [
    ("holaa buen dia", "greet"),
    ("hello!", "greet"),
    ("chao, gracias por todo", "goodbye"),
    ("see ya", "goodbye"),
    ("sip, eso mero", "affirm"),
    ("yes please", "affirm"),
    ("no, gracias", "deny"),
    ("nope", "deny"),
    ("muchisimas gracias!!", "thank"),
    ("thank u so much", "thank"),
    ("estoy hablando con una maquina?", "bot_challenge"),
    ("is this a bot", "bot_challenge"),
    ("pasame con alguien de atencion al cliente", "human_handoff"),
    ("i need to speak with an agent", "human_handoff"),
    ("son unos estafadores, nunca mas les compro", "complaint"),
    ("this is the worst service ever", "complaint"),
    ("ya enviaron mi pedido 10987?", "order_status"),
    ("has my order shipped yet", "order_status"),
    ("quiero pedir unas zapatillas urbanas blancas", "place_order"),
    ("i want to buy a hoodie", "place_order"),
    ("cancela mi pedido x favor", "cancel_order"),
    ("please cancel my order", "cancel_order"),
    ("me equivoque de talla en el pedido que acabo de hacer", "change_order"),
    ("can i change the shipping address on my order", "change_order"),
    ("la playera me llego rota quiero devolverla", "return_request"),
    ("i want to return the jeans, they dont fit", "return_request"),
    ("me pueden hacer factura?", "invoice_request"),
    ("i need an invoice for my purchase", "invoice_request"),
    ("me rechazaron el pago con tarjeta", "payment_issue"),
    ("my payment didnt go through", "payment_issue"),
    ("no puedo iniciar sesion en mi cuenta", "account_help"),
    ("how do i reset my password", "account_help"),
    ("quien gano el partido ayer?", "out_of_scope"),
    ("can you help me with my math homework", "out_of_scope"),
    ("cuanto sale el envio?", "faq/delivery_costs"),
    ("do you ship to spain", "faq/international_shipping"),
    ("que metodos de pago aceptan", "faq/payment_methods"),
    ("what are your opening hours", "faq/business_hours"),
    ("tienen guia de tallas?", "faq/size_guide"),
    ("hay algun descuento ahorita?", "faq/promotions"),
]


def label(parse: dict) -> str:
    """The intent, or faq/<key> when the ResponseSelector answers."""
    intent = parse["intent"]["name"]
    if intent == "faq":
        return parse["response_selector"]["faq"]["response"]["intent_response_key"]
    return intent


async def test_unseen_messages_are_understood(agent) -> None:
    misses = []
    for text, expected in UNSEEN:
        got = label(await agent.parse_message(text))
        if got != expected:
            misses.append((text, expected, got))
    assert len(misses) <= len(UNSEEN) // 10, misses


@pytest.mark.parametrize(
    "text",
    [
        "verde... no, mejor el negro",
        "beige no, mejor cafe",
        "no, better the navy one",
        "no wait, XL",
    ],
)
async def test_a_value_corrected_as_it_is_typed_is_an_answer_not_a_no(agent, text: str) -> None:
    """Read as `deny`, "negra... no, mejor gris" dropped the whole order (blind5)."""
    assert (await agent.parse_message(text))["intent"]["name"] != "deny"


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("mi pedido es el 10234", "order_id", "10234"),
        ("where is order #10555?", "order_id", "10555"),
        ("mi correo es ana.martinez@example.com", "email", "ana.martinez@example.com"),
    ],
)
async def test_entities_with_a_known_shape(agent, text: str, entity: str, value: str) -> None:
    parse = await agent.parse_message(text)
    assert (entity, value) in {(e["entity"], e["value"]) for e in parse["entities"]}


async def test_each_entity_is_reported_once(agent) -> None:
    parse = await agent.parse_message("mi pedido 10234, correo ana@example.com")
    spans = [(e["start"], e["end"], e["entity"]) for e in parse["entities"]]
    assert len(spans) == len(set(spans))


async def test_language_is_in_the_parse_result(agent) -> None:
    assert (await agent.parse_message("where is my package"))["language"] == "en"
    assert (await agent.parse_message("donde esta mi paquete"))["language"] == "es"


@pytest.mark.parametrize("text", ["", "   ", "🦄🦄", "¿¿??"])
async def test_unreadable_messages_are_fallback(agent, text: str) -> None:
    assert (await agent.parse_message(text))["intent"]["name"] == "nlu_fallback"


async def test_a_wall_of_text_is_parsed_from_its_beginning(agent) -> None:
    text = "hola necesito factura de mi compra " + "bla " * 2500
    parse = await agent.parse_message(text)
    assert len(parse["text"]) <= 600
    assert parse["intent"]["name"] == "invoice_request"


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("hola, quiero saber donde anda el 10001 y tambien cancelar el 10011 q ya no lo quiero",
         ["order_status", "cancel_order"]),
        ("buenas tardes, a q hora cierran hoy y donde esta mi pedido 10003",
         ["faq/business_hours", "order_status"]),
        ("hey, where's order 10002 and also i want to return 10007, wrong size",
         ["order_status", "return_request"]),
    ],
)  # fmt: skip
async def test_each_request_of_a_message_is_found_in_order(agent, text: str, intents: list) -> None:
    parse = await agent.parse_message(text)
    assert [request["intent"] for request in parse.get("requests", [])] == intents
    assert parse["intent"]["name"] == next(i for i in intents if not i.startswith("faq"))
