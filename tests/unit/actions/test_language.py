"""action_detect_language keeps the `language` slot on the customer's language."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage


def tracker_with(language_slot: str | None, detected: str | None) -> Tracker:
    latest: dict[str, Any] = {"text": "x", "intent": {"name": "greet"}, "language": detected}
    return Tracker(
        sender_id="t",
        slots={"language": language_slot},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    ("slot", "detected", "expected"),
    [
        ("es", "en", [SlotSet("language", "en")]),
        ("en", "es", [SlotSet("language", "es")]),
        ("es", "es", []),
        ("en", None, []),
        ("es", "fr", []),
    ],
)
async def test_slot_follows_detected_language(
    slot: str, detected: str | None, expected: list[Any]
) -> None:
    events = await ActionDetectLanguage().run(
        CollectingDispatcher(), tracker_with(slot, detected), {}
    )
    assert events == expected
