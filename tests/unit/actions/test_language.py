"""The conversation's language: set by the first clear message, changed only by a clear switch.

The review found replies flipping on a Spanish name in an English conversation, on a one-word
goodbye, and on "mercado pago" answered to the payment question.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage, ActionOutOfScope
from components.language import detect_language, language_scores


def tracker_with(
    text: str,
    slot: str = "es",
    seen: bool = True,
    intent: str = "inform",
    requested: str | None = None,
) -> Tracker:
    latest: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent},
        "language": detect_language(text),
        "language_scores": language_scores(text),
    }
    return Tracker(
        sender_id="t",
        slots={"language": slot, "language_seen": seen, "requested_slot": requested},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(tracker: Tracker) -> list[Any]:
    return await ActionDetectLanguage().run(CollectingDispatcher(), tracker, {})


async def test_the_first_clear_message_sets_the_language() -> None:
    events = await run(tracker_with("r u a robot?", slot="es", seen=False, intent="bot_challenge"))
    assert SlotSet("language", "en") in events
    assert SlotSet("language_seen", True) in events


async def test_a_clear_sentence_switches() -> None:
    english = "actually can you tell me where my order is, I need it for the weekend"
    assert SlotSet("language", "en") in await run(tracker_with(english, intent="order_status"))
    spanish = "oye mejor dime en español, donde esta mi pedido por favor"
    assert await run(tracker_with(spanish, slot="en", intent="order_status")) == [
        SlotSet("language", "es")
    ]


@pytest.mark.parametrize(
    ("text", "slot", "intent", "requested"),
    [
        ("María Guadalupe Hernández", "en", "inform", "customer_name"),
        ("Calle de la Amargura 12, Colonia Centro", "en", "inform", "delivery_street"),
        ("mercado pago", "en", "inform", "payment_method"),
        ("221 Baker Street, Apt 4", "es", "inform", "delivery_street"),
        ("gracias, chao", "en", "goodbye", None),
        ("adios", "en", "goodbye", None),
        ("bye", "es", "goodbye", None),
        ("thanks!", "es", "thank", None),
        ("ok", "en", "affirm", None),
        ("10234", "en", "inform", None),
    ],
)
async def test_data_and_small_talk_never_switch(
    text: str, slot: str, intent: str, requested: str | None
) -> None:
    assert await run(tracker_with(text, slot=slot, intent=intent, requested=requested)) == []


@pytest.mark.parametrize(
    ("text", "slot", "switched"),
    [
        ("sorry, can we continue in English please? my Spanish is not very good", "es", "en"),
        ("do you speak english?", "es", "en"),
        ("hablame en español porfa", "en", "es"),
        ("can you speak spanish", "en", "es"),
    ],
)
async def test_asking_for_a_language_switches_at_once(text: str, slot: str, switched: str) -> None:
    # Even at a data question, where an answer never switches.
    events = await run(tracker_with(text, slot=slot, requested="order_verification"))
    assert SlotSet("language", switched) in events


def test_mentioning_a_language_is_no_request() -> None:
    from actions.language import asked_language

    assert asked_language("I speak Spanish a bit") is None
    assert asked_language("mi pedido 10001") is None


@pytest.mark.parametrize(
    ("text", "response"),
    [
        (
            "perdon, mi ingles no es muy bueno, puedo escribirte en español?",
            "utter_language_switched",
        ),
        ("sorry, can we continue in English?", "utter_language_switched"),
        ("a que hora juega el america", "utter_out_of_scope"),
    ],
)
async def test_out_of_scope_unless_it_asks_for_a_language(text: str, response: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionOutOfScope().run(dispatcher, tracker_with(text, intent="out_of_scope"), {})
    assert [m["response"] for m in dispatcher.messages] == [response]
