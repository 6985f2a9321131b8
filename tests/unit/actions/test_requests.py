"""The other requests of a message with several (actions/requests.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.requests import ActionOtherRequests, requests_in
from tests.unit.actions.support import responses, tracker


def with_requests(intent: str, found: list[dict[str, Any]], language: str = "es") -> Any:
    t = tracker({"language": language}, text=" ".join(r["text"] for r in found), intent=intent)
    t.latest_message["requests"] = found
    return t


def test_a_part_asking_for_another_language_is_no_request() -> None:
    found = [
        {"text": "perdón, ¿puedo seguir en español?", "intent": "faq/international_shipping"},
        {"text": "¿Cuál es su horario de atención?", "intent": "faq/business_hours"},
    ]
    assert [r["intent"] for r in requests_in(with_requests("faq", found))] == ["faq/business_hours"]


async def test_faq_parts_are_answered_and_a_second_flow_comes_next(domain_dict) -> None:
    found = [
        {"text": "a q hora abren", "intent": "faq/business_hours"},
        {"text": "donde va el 10001", "intent": "order_status"},
        {"text": "y cancelar el 10005", "intent": "cancel_order"},
    ]
    dispatcher = CollectingDispatcher()
    events = await ActionOtherRequests().run(
        dispatcher, with_requests("order_status", found), domain_dict
    )
    assert responses(dispatcher) == ["utter_faq/business_hours", "utter_request_comes_next"]
    assert events[0]["name"] == "pending_request"
    assert str(events[0]["value"]).startswith("cancel_order")
    assert "10005" in str(events[0]["value"])
