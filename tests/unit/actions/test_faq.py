"""Follow-ups of a FAQ answer refer to the topic just answered (actions/faq.py)."""

from __future__ import annotations

import pytest

from actions.faq import aspect_of, choose_answer, is_follow_up


@pytest.mark.parametrize(
    ("text", "intent", "picked", "confidence", "previous", "answer"),
    [
        # the examples, and their Spanish twins
        ("and roughly how much?", "followup", None, 0.0, "international_shipping",
         "international_shipping"),
        ("y mas o menos cuanto sale?", "faq", "delivery_costs", 0.6, "international_shipping",
         "international_shipping"),
        ("and where exactly is it?", "faq", "contact_channels", 0.9, "store_locations",
         "store_locations"),
        ("y donde queda exactamente?", "faq", "contact_channels", 0.7, "business_hours",
         "store_locations"),
        ("y el domingo?", "followup", None, 0.0, "store_locations", "store_locations"),
        ("and how long?", "followup", None, 0.0, "delivery_costs", "delivery_times"),
        ("y cuanto cuesta?", "followup", None, 0.0, "delivery_times", "delivery_costs"),
        ("y en cuanto me devuelven el dinero?", "faq", "return_policy", 0.6, "return_policy",
         "refund_times"),
        # no aspect: the same topic, unless the message names another one clearly
        ("y la ropa?", "faq", "size_guide", 0.4, "warranty", "warranty"),
        ("and do you have gift cards?", "faq", "gift_cards", 0.97, "delivery_costs",
         "gift_cards"),
        # not a follow-up: the selector's pick
        ("what payment methods do you accept?", "faq", "payment_methods", 0.9, "warranty",
         "payment_methods"),
        ("cuanto cuesta el envio a monterrey", "faq", "delivery_costs", 0.9, None,
         "delivery_costs"),
        # "¿a qué hora abrís?" after the stores: the stores' hours, not the support hours
        ("vale, y a que hora abris los domingos?", "faq", "business_hours", 0.96,
         "store_locations", "store_locations"),
        # an option of the same topic, named: the answer that covers it
        ("y el express?", "followup", "delivery_options", 0.65, "delivery_times",
         "delivery_options"),
        # after a cancellation, a question about the money is about refunds
        ("y la plata cuando me vuelve?", "followup", "refund_times", 0.5,
         ["refund_times"], "refund_times"),
        # a follow-up with nothing before it: only a sure pick is answered
        ("and how much?", "followup", "delivery_costs", 0.4, None, None),
        ("and how much?", "followup", "delivery_costs", 0.95, None, "delivery_costs"),
    ],
)  # fmt: skip
def test_choose_answer(
    text: str,
    intent: str,
    picked: str | None,
    confidence: float,
    previous: str | None,
    answer: str | None,
) -> None:
    assert choose_answer(text, intent, picked, confidence, previous) == answer


def test_aspects_and_shapes() -> None:
    assert aspect_of("y a que hora cierran el sabado?") == "hours"
    assert aspect_of("how much roughly") == "cost"
    assert aspect_of("and where is it") == "place"
    assert is_follow_up("y eso?", None)
    assert not is_follow_up("what payment methods do you accept here?", "faq")


def test_a_flow_just_ended_counts_as_its_topics() -> None:
    from rasa_sdk import Tracker

    from actions.faq import previous_faqs

    events = [
        {"event": "user", "text": "cancela el 10003"},
        {"event": "action", "name": "action_cancel_order"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "y la plata cuando me vuelve?"},
    ]
    tracker = Tracker("s", {}, {}, events, False, None, {}, "action_listen")
    assert previous_faqs(tracker) == ["refund_times"]
