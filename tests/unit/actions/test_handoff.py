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
        ("place_order", "customer_asked"),
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


def user(intent: str) -> dict:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


def tracker_with(events: list[dict], latest_intent: str) -> Tracker:
    return Tracker(
        sender_id="t",
        slots={"language": "es", "handoff_reason": None},
        latest_message={"text": "x", "intent": {"name": latest_intent, "confidence": 0.9}},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def test_a_reason_set_by_a_flow_in_this_turn_wins() -> None:
    events = [
        user("send_media"),
        {"event": "action", "name": "action_create_return"},
        {"event": "slot", "name": "handoff_reason", "value": "damaged_item"},
    ]
    result = await ActionHandoff().run(
        CollectingDispatcher(), tracker_with(events, "send_media"), {}
    )
    assert result == [SlotSet("handoff_reason", "damaged_item")]


async def test_an_answer_inside_a_flow_takes_the_reason_of_the_request() -> None:
    events = [
        user("payment_issue"),
        {"event": "action", "name": "payment_issue_form"},
        user("deny"),
    ]
    result = await ActionHandoff().run(CollectingDispatcher(), tracker_with(events, "deny"), {})
    assert result == [SlotSet("handoff_reason", "payment_problem")]


async def test_a_reason_from_an_earlier_turn_is_not_reused() -> None:
    events = [
        {"event": "slot", "name": "handoff_reason", "value": "damaged_item"},
        user("human_handoff"),
    ]
    result = await ActionHandoff().run(
        CollectingDispatcher(), tracker_with(events, "human_handoff"), {}
    )
    assert result == [SlotSet("handoff_reason", "customer_asked")]
