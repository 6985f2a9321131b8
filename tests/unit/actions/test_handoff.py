"""action_handoff records why a person is needed and tells the customer."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff


def tracker_after(intent: str) -> Tracker:
    return Tracker(
        sender_id="t",
        slots={"language": "es", "handoff_reason": None},
        latest_message={"text": "x", "intent": {"name": intent, "confidence": 0.9}},
        events=[],
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
        ("affirm", "repeated_fallback"),
        ("order_status", "order_request"),
        ("something_new", "customer_asked"),
    ],
)
async def test_reason_comes_from_the_intent(intent: str, reason: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker_after(intent), {})
    assert events == [SlotSet("handoff_reason", reason)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_requested"]
