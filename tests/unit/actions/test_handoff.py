"""action_handoff parks the conversation with people, records why, and tells the customer when."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from handoff.case import Reason, Status
from handoff.database import make_engine, migrate
from handoff.service import Handoff
from handoff.store import CaseStore


@pytest.fixture(autouse=True)
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaseStore]:
    """The handoff database the action writes to: a fresh SQLite file per test."""
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
    Handoff.default.cache_clear()
    yield CaseStore(make_engine(url))
    Handoff.default.cache_clear()


def reason_of(events: list) -> str:
    """The reason the action recorded, checking it paused the conversation with a case."""
    assert events[-1] == ConversationPaused()
    assert SlotSet("handoff_active", True) in events
    (reason,) = [e["value"] for e in events if e.get("name") == "handoff_reason"]
    return str(reason)


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
    assert reason_of(events) == reason
    *before, message = [m for m in dispatcher.messages if m.get("response")]
    # A complaint is met with an apology first.
    assert [m["response"] for m in before] == (
        ["utter_handoff_sorry"] if reason == "complaint" else []
    )
    assert message["response"] == "utter_handoff_queued"
    assert message["source"] == "handoff"  # let through while people own the conversation
    assert "las" in message["when"]  # "hoy antes de las 17:00"


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
    assert reason_of(events) == reason


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
    assert reason_of(result) == "damaged_item"


async def test_an_answer_inside_a_flow_takes_the_reason_of_the_request() -> None:
    events = [
        user("payment_issue"),
        {"event": "action", "name": "payment_issue_form"},
        user("deny"),
    ]
    result = await ActionHandoff().run(CollectingDispatcher(), tracker_with(events, "deny"), {})
    assert reason_of(result) == "payment_problem"


async def test_a_reason_from_an_earlier_turn_is_not_reused() -> None:
    events = [
        {"event": "slot", "name": "handoff_reason", "value": "damaged_item"},
        user("human_handoff"),
    ]
    result = await ActionHandoff().run(
        CollectingDispatcher(), tracker_with(events, "human_handoff"), {}
    )
    assert reason_of(result) == "customer_asked"


async def test_the_case_carries_what_the_bot_collected_and_a_repeat_keeps_one_case(
    cases: CaseStore,
) -> None:
    tracker = tracker_with(
        [
            {
                "event": "user",
                "text": "me llegó roto el pedido 10001",
                "timestamp": 1_800_000_000.0,
                "parse_data": {"intent": {"name": "complaint"}},
                "metadata": {
                    "display_name": "Ana",
                    "profile_id": 7,
                    "media": [{"url": "https://h/f/x.jpg", "content_type": "image/jpeg"}],
                },
            },
        ],
        "complaint",
    )
    tracker.slots["order_id"] = "10001"
    first = await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    again = await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    case_id = int(next(e["value"] for e in first if e.get("name") == "handoff_case_id"))
    assert next(e["value"] for e in again if e.get("name") == "handoff_case_id") == str(case_id)
    case = cases.get(case_id)
    assert case.status is Status.QUEUED  # nobody online to auto-assign it to
    assert case.reason is Reason.COMPLAINT
    assert case.priority.value == "high"
    assert case.collected["order_id"] == "10001"
    assert case.collected["handoff_reason"] == "complaint"
    assert case.customer_name == "Ana"
    assert case.profile_id == 7
    assert case.media[0].url == "https://h/f/x.jpg"
    assert "me llegó roto el pedido 10001" in case.summary
    assert case.sla_due_at > case.created_at


@pytest.mark.parametrize(
    ("text", "hands_over"),
    [
        ("can we speak english please", False),
        ("can we continue in english? i want to talk to a person", True),
        ("quiero hablar con una persona", True),
    ],
)
async def test_a_language_request_taken_for_a_person_request_is_answered(
    cases: CaseStore, text: str, hands_over: bool
) -> None:
    t = tracker_after("human_handoff")
    t.latest_message["text"] = text
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    said = [m["response"] for m in dispatcher.messages]
    if hands_over:
        assert reason_of(events) == "customer_asked"
    else:
        assert events == []
        assert said == ["utter_language_switched"]
