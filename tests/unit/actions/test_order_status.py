"""The order status form and answer, against the seeded demo store on SQLite.

Trackers are built the way the Rasa server sends them to the action server; the store is
real (migrated and seeded in a temporary file), so these tests catch a wrong query as well
as a wrong reply.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from actions.commerce import ORDER_FAILURE_LIMIT
from actions.orders.common import channel_phone, phone_in_sender_id
from actions.orders.lookup import ActionAskOrderId, proof_in
from actions.orders.proof import Proof, unseal
from actions.orders.status import ActionOrderStatus, ValidateOrderStatusForm
from tests.unit.actions.support import proven, responses, slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Runs the order status form's validator."""
    return await run_validator(ValidateOrderStatusForm(), t, domain)


async def test_number_then_email_verifies_and_the_answer_has_tracking(domain_dict) -> None:
    order_given = tracker(
        candidates={"order_id": "10001"},
        text="donde esta mi pedido 10001",
        intent="order_status",
        entities=[{"entity": "order_id", "value": "10001"}],
    )
    slots, said = await validate(order_given, domain_dict)
    assert slots["order_id"] == "10001"
    assert slots["order_verified"] is False
    assert slots["requested_slot"] == "order_verification"
    assert said == []

    proof = tracker(
        {"order_id": "10001"},
        {"order_verification": "es ANA@example.com"},
        text="es ANA@example.com",
        requested="order_verification",
    )
    slots, said = await validate(proof, domain_dict)
    assert slots["order_verification"] == "ok"
    assert slots["order_verified"] is True
    assert unseal(slots["verified_contact"], proof) == Proof("email", "ana@example.com")
    assert slots["requested_slot"] is None

    done = tracker({"order_id": "10001", "verified_contact": proven("email", "ana@example.com")})
    dispatcher = CollectingDispatcher()
    await ActionOrderStatus().run(dispatcher, done, domain_dict)
    answer = dispatcher.messages[0]
    assert answer["response"] == "utter_order_shipped"
    assert answer["carrier"] == "Estafeta"
    assert answer["tracking_number"] == "EST123456789MX"
    assert "2 × Camiseta básica" in answer["items"]
    assert answer["expected_date"].startswith("el ")


async def test_last_four_digits_of_the_phone_verify(domain_dict) -> None:
    proof = tracker(
        {"order_id": "10003"},
        {"order_verification": "los ultimos 4 son 1234"},
        requested="order_verification",
    )
    slots, _ = await validate(proof, domain_dict)
    assert slots["order_verification"] == "ok"
    assert unseal(slots["verified_contact"], proof) == Proof("phone", "+5491155551234")


async def test_someone_elses_order_and_a_missing_order_get_the_same_reply(domain_dict) -> None:
    replies = []
    for order_id in ("10002", "99999"):
        proof = tracker(
            {"order_id": order_id},
            {"order_verification": "ana@example.com"},
            requested="order_verification",
        )
        dispatcher = CollectingDispatcher()
        events = await ValidateOrderStatusForm().run(dispatcher, proof, domain_dict)
        slots = slot_events(events)
        assert slots["order_verification"] is None
        assert slots["verification_failures"] == 1.0
        replies.append(dispatcher.messages)
    assert replies[0][0]["response"] == replies[1][0]["response"] == "utter_verification_failed"
    assert replies[0][0]["attempts_left"] == replies[1][0]["attempts_left"] == 2


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL run on this test's store inside the block (parameters left out).

    Only the store's own database counts: a thread that an earlier test left behind may run
    SQL on its own engine meanwhile, and that says nothing about this order lookup.
    """
    ran: list[str] = []
    database = make_url(os.environ["DATABASE_URL"]).database

    def note(conn, _cursor, statement: str, *_args) -> None:
        if conn.engine.url.database == database:
            ran.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield ran
    finally:
        event.remove(Engine, "before_cursor_execute", note)


@pytest.mark.parametrize(
    ("slots", "latest", "requested"),
    [
        ({}, {"order_id": "{order}"}, "order_id"),  # the number given
        ({"order_id": "{order}"}, {"order_verification": "ana@example.com"}, "order_verification"),
        ({"order_id": "{order}"}, {"order_verification": "son 1234"}, "order_verification"),
        (  # a customer proven on another order asks about this one
            {"order_id": "{order}", "verified_contact": "{proof}"},
            {},
            None,
        ),
    ],
)
async def test_an_unknown_order_costs_what_somebody_elses_costs(
    domain_dict, slots: dict[str, str], latest: dict[str, str], requested: str | None
) -> None:
    """Same replies, same queries: neither the words nor the time tell which orders exist."""
    seen = []
    for order in ("10002", "99999"):  # somebody else's order, then one that does not exist
        fill = {"{order}": order, "{proof}": proven("email", "ana@example.com")}
        t = tracker(
            {k: fill.get(v, v) for k, v in slots.items()},
            {k: fill.get(v, v) for k, v in latest.items()},
            requested=requested,
        )
        dispatcher = CollectingDispatcher()
        with statements() as ran:
            events = await ValidateOrderStatusForm().run(dispatcher, t, domain_dict)
        seen.append((ran, [m.get("response") for m in dispatcher.messages], slot_events(events)))
    (foreign_sql, foreign_said, foreign_slots), (unknown_sql, unknown_said, unknown_slots) = seen
    assert foreign_sql == unknown_sql
    assert foreign_said == unknown_said
    assert {k: v for k, v in foreign_slots.items() if k != "order_id"} == {
        k: v for k, v in unknown_slots.items() if k != "order_id"
    }


async def test_third_failure_blocks_and_the_answer_offers_a_person(domain_dict) -> None:
    proof = tracker(
        {"order_id": "10001", "verification_failures": 2.0},
        {"order_verification": "0000"},
        requested="order_verification",
    )
    slots, said = await validate(proof, domain_dict)
    assert slots["order_lookup_blocked"] == "verification_failed"
    assert slots["requested_slot"] is None
    assert said == []

    blocked = tracker({"order_id": "10001", "verification_failures": 3.0})
    dispatcher = CollectingDispatcher()
    events = await ActionOrderStatus().run(dispatcher, blocked, domain_dict)
    assert responses(dispatcher) == ["utter_verification_blocked"]
    assert slot_events(events)["order_lookup_blocked"] == "verification_failed"


async def test_a_restarted_form_after_three_failures_asks_nothing(domain_dict) -> None:
    again = tracker(
        {"verification_failures": 3.0},
        {"order_id": "10001"},
        intent="order_status",
        entities=[{"entity": "order_id", "value": "10001"}],
    )
    slots, _ = await validate(again, domain_dict)
    assert slots["requested_slot"] is None


async def test_an_answer_without_email_or_digits_is_explained_not_counted(domain_dict) -> None:
    proof = tracker(
        {"order_id": "10001"},
        {"order_verification": "no se cual es"},
        requested="order_verification",
    )
    slots, said = await validate(proof, domain_dict)
    assert said == ["utter_verification_help"]
    assert "verification_failures" not in slots


async def test_whatsapp_sender_owning_the_order_skips_verification(domain_dict) -> None:
    t = tracker(
        candidates={"order_id": "10001"},
        sender="whatsapp:+5215512345678",
        channel="whatsapp",
        intent="order_status",
        entities=[{"entity": "order_id", "value": "10001"}],
    )
    slots, _ = await validate(t, domain_dict)
    assert slots["requested_slot"] is None
    assert slots["order_verified"] is True


async def test_whatsapp_sender_not_owning_the_order_must_verify(domain_dict) -> None:
    t = tracker(
        candidates={"order_id": "10002"},
        sender="whatsapp:+5215512345678",
        channel="whatsapp",
        intent="order_status",
        entities=[{"entity": "order_id", "value": "10002"}],
    )
    slots, _ = await validate(t, domain_dict)
    assert slots["requested_slot"] == "order_verification"


async def test_known_customer_picks_from_buttons_with_their_orders_only(domain_dict) -> None:
    dispatcher = CollectingDispatcher()
    known = tracker(sender="whatsapp:5215512345678", channel="whatsapp")
    await ActionAskOrderId().run(dispatcher, known, domain_dict)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_choose_order"
    numbers = [b["payload"].split('"order_id":"')[1].rstrip('"}') for b in message["buttons"]]
    assert "10001" in numbers
    assert "10002" not in numbers
    assert "10003" not in numbers


async def test_unknown_customer_is_asked_for_the_number(domain_dict) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(dispatcher, tracker(sender="telegram:42"), domain_dict)
    assert responses(dispatcher) == ["utter_ask_order_id"]


@pytest.mark.parametrize("value", ["abc", "10001' OR '1'='1", "<script>alert(1)</script>"])
async def test_malformed_order_numbers_are_refused_politely(domain_dict, value: str) -> None:
    slots, said = await validate(tracker(candidates={"order_id": value}), domain_dict)
    assert slots["order_id"] is None
    assert said == ["utter_order_id_invalid"]


async def test_the_21st_lookup_in_a_minute_is_throttled(domain_dict) -> None:
    for _ in range(20):
        slots, said = await validate(tracker(candidates={"order_id": "10001"}), domain_dict)
        assert "utter_lookup_throttled" not in said
    slots, said = await validate(tracker(candidates={"order_id": "10001"}), domain_dict)
    assert said == ["utter_lookup_throttled"]
    assert slots["order_lookup_blocked"] == "throttled"
    assert slots["requested_slot"] is None
    # Another sender is not affected.
    other = tracker(candidates={"order_id": "10001"}, sender="rest-other")
    _, said = await validate(other, domain_dict)
    assert said == []


async def test_english_answer_uses_english_dates(domain_dict) -> None:
    done = tracker(
        {
            "order_id": "10002",
            "verified_contact": proven("email", "john@example.com"),
            "language": "en",
        }
    )
    dispatcher = CollectingDispatcher()
    await ActionOrderStatus().run(dispatcher, done, domain_dict)
    answer = dispatcher.messages[0]
    assert answer["response"] == "utter_order_delivered"
    assert answer["delivered_date"].split(",")[0] in (
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    )


@pytest.mark.parametrize(
    ("text", "proof"),
    [
        ("mi correo es Ana@Example.com", {"email": "Ana@Example.com"}),
        ("5678", {"last4": "5678"}),
        ("terminacion 5678 porfa", {"last4": "5678"}),
        ("+52 1 55 1234 5678", {"phone": "+52 1 55 1234 5678"}),
        ("1234 o 5678", {}),
        ("no me acuerdo", {}),
    ],
)
def test_proof_in_reads_what_customers_type(text: str, proof: dict[str, str]) -> None:
    assert proof_in(text) == proof


@pytest.mark.parametrize(
    ("sender", "phone"),
    [
        ("whatsapp:+5215512345678", "+525512345678"),
        ("twilio:whatsapp:+14155550123", "+14155550123"),
        ("telegram:12345678", None),
        ("rest-abc", None),
        ("whatsapp:not-a-number", None),
    ],
)
def test_phone_in_sender_id(sender: str, phone: str | None) -> None:
    assert phone_in_sender_id(sender) == phone


async def test_a_whatsapp_looking_sender_on_an_open_channel_is_not_trusted(domain_dict) -> None:
    # Anyone can post {"sender": "whatsapp:+52..."} to the REST webhook.
    forged = tracker(
        candidates={"order_id": "10001"}, sender="whatsapp:+5215512345678", channel="rest"
    )
    assert channel_phone(forged) is None
    slots, _ = await validate(forged, domain_dict)
    assert slots["requested_slot"] == "order_verification"
    assert slots["order_verified"] is False


async def test_guesses_from_many_conversation_ids_lock_the_order(domain_dict) -> None:
    """The review's attack: new sender ids for every few guesses of 10003's phone digits.

    Each id gets fewer than three tries, so the per-conversation limit never triggers; the
    order's own count does, and from then on even the right digits are refused with the same
    words, so the lock says nothing about which guess was right.
    """
    wrong = [f"{n:04d}" for n in range(ORDER_FAILURE_LIMIT)]
    for index, digits in enumerate(wrong):
        guess = tracker(
            {"order_id": "10003", "verification_failures": float(index % 2)},
            {"order_verification": digits},
            sender=f"rest-attacker-{index // 2}",
            requested="order_verification",
        )
        slots, said = await validate(guess, domain_dict)
        assert slots["order_verification"] is None
    assert said == ["utter_verification_locked"]
    assert slots["order_lookup_blocked"] == "verification_failed"

    right = tracker(
        {"order_id": "10003"},
        {"order_verification": "1234"},  # Lucía's real last four digits
        sender="rest-attacker-new",
        requested="order_verification",
    )
    slots, said = await validate(right, domain_dict)
    assert slots["order_verification"] is None
    assert "verified_contact" not in slots
    assert said == ["utter_verification_locked"]


async def test_a_locked_order_is_still_served_to_its_channel_identity(domain_dict) -> None:
    """Ana writing from her own WhatsApp needs no typed proof, so the lock does not stop her."""
    for index in range(ORDER_FAILURE_LIMIT):
        guess = tracker(
            {"order_id": "10001"},
            {"order_verification": f"{index:04d}"},
            sender=f"rest-attacker-{index}",
            requested="order_verification",
        )
        await validate(guess, domain_dict)
    ana = tracker(
        {"order_id": "10001"},
        sender="whatsapp:+5215512345678",
        channel="whatsapp",
        requested=None,
    )
    dispatcher = CollectingDispatcher()
    await ActionOrderStatus().run(dispatcher, ana, domain_dict)
    assert dispatcher.messages[0]["response"] == "utter_order_shipped"


async def test_a_proof_in_an_apology_counts(domain_dict) -> None:
    answer = tracker(
        {"order_id": "10003"},
        text="ay perdon, ese no es. el celu termina en 1234",
        intent="deny",
        requested="order_verification",
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["order_verification"] == "ok"


def test_the_order_number_of_each_request() -> None:
    from actions.orders.lookup import order_number_for

    text = "Two things: where's my order 10001, and I want to cancel 10005, I got the wrong one"
    message = tracker(
        text=text,
        intent="cancel_order",
        entities=[
            {"entity": "order_id", "value": "10001", "start": text.index("10001")},
            {"entity": "order_id", "value": "10005", "start": text.index("10005")},
        ],
    )
    message.latest_message["requests"] = [
        {"text": "Two things: where's my order 10001", "intent": "order_status"},
        {"text": "I want to cancel 10005, I got the wrong one", "intent": "cancel_order"},
    ]
    assert order_number_for(message, "cancel_order") == "10005"
    assert order_number_for(message, "order_status") == "10001"
    assert order_number_for(message, "return_request") is None


def test_two_order_numbers_in_one_unsplit_request() -> None:
    from actions.orders.lookup import order_number_for

    text = "hola, quiero saber donde va el 10001 y tambien cancelar el 10005 q ya no lo voy a pagar"
    message = tracker(
        text=text,
        intent="cancel_order",
        entities=[
            {"entity": "order_id", "value": "10001", "start": text.index("10001")},
            {"entity": "order_id", "value": "10005", "start": text.index("10005")},
        ],
    )
    assert order_number_for(message, "cancel_order") == "10005"


def asks_about_10003(text: str):
    """The opening message of a status request for order 10003 (its phone ends in 1234)."""
    return tracker(
        candidates={"order_id": "10003"},
        text=text,
        intent="order_status",
        entities=[{"entity": "order_id", "value": "10003"}],
    )


@pytest.mark.parametrize(
    "text",
    [
        "buenas, mi pedido 10003 ya salio? mi cel termina en 1234",
        "hey can u check order 10003 pls, my phone ends in 1234",
        "pedido 10003, ultimos 4 digitos 1234",
    ],
)
async def test_phone_digits_named_in_the_request_are_the_proof(domain_dict, text: str) -> None:
    """The customer gave the digits with the order number: asking for them again looped."""
    opening = asks_about_10003(text)
    slots, _ = await validate(opening, domain_dict)
    assert slots["order_verification"] == "ok"
    assert unseal(slots["verified_contact"], opening) == Proof("phone", "+5491155551234")


@pytest.mark.parametrize("text", ["quiero saber del pedido 10003 del 2024", "10003 talla 1234"])
async def test_four_digits_not_named_as_the_phones_are_no_proof(domain_dict, text: str) -> None:
    opening = asks_about_10003(text)
    slots, _ = await validate(opening, domain_dict)
    assert slots["requested_slot"] == "order_verification"
    assert slots.get("verification_failures") in (None, 0.0)
