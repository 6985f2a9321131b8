"""action_handoff records why a person is needed and tells the customer."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff


def tracker_after(intent: str, bot_action: str | None = None) -> Tracker:
    """A tracker whose latest message has `intent`, after the bot ran `bot_action`."""
    message = {"text": "x", "intent": {"name": intent, "confidence": 0.9}}
    events = [{"event": "action", "name": "action_listen"}]
    if bot_action:
        events = [
            {"event": "user", "text": "y", "parse_data": {}},
            {"event": "action", "name": bot_action},
            {"event": "action", "name": "action_listen"},
        ]
    events.append({"event": "user", "text": "x", "parse_data": message})
    return Tracker(
        sender_id="t",
        slots={"language": "es", "handoff_reason": None},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("human_handoff", "customer_asked"),
        ("complaint", "complaint"),
        ("payment_issue", "payment_problem"),
        ("place_order", "order_request"),
        ("something_new", "customer_asked"),
    ],
)
async def test_reason_comes_from_the_intent(intent: str, reason: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker_after(intent), {})
    assert events == [SlotSet("handoff_reason", reason)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_requested"]


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        ("utter_offer_human", "repeated_fallback"),
        ("action_order_status", "failed_verification"),
        (None, "customer_asked"),
    ],
)
async def test_yes_to_an_offer_takes_the_reason_of_the_offer(
    offer: str | None, reason: str
) -> None:
    events = await ActionHandoff().run(CollectingDispatcher(), tracker_after("affirm", offer), {})
    assert events == [SlotSet("handoff_reason", reason)]
