"""AnswerAwareFallback falls back on low confidence and on ambiguity that changes the answer."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.fallback import AnswerAwareFallback


def classified(first: tuple[str, float], second: tuple[str, float]) -> Message:
    ranking = [{"name": name, "confidence": confidence} for name, confidence in (first, second)]
    return Message({TEXT: "x", INTENT: ranking[0], INTENT_RANKING_KEY: ranking})


def fallback() -> AnswerAwareFallback:
    config = {**AnswerAwareFallback.get_default_config(), "threshold": 0.3}
    return AnswerAwareFallback(config)


@pytest.mark.parametrize(
    ("first", "second", "falls_back"),
    [
        # handled the same way: no reason to ask to rephrase
        (("followup", 0.52), ("faq", 0.48), False),
        (("order_status", 0.44), ("inform", 0.42), False),
        # handled differently: too close to choose
        (("cancel_order", 0.45), ("order_status", 0.43), True),
        # too unsure, whatever the second is
        (("faq", 0.25), ("followup", 0.20), True),
        (("greet", 0.9), ("thank", 0.05), False),
    ],
)
def test_ambiguity_only_between_different_handling(
    first: tuple[str, float], second: tuple[str, float], falls_back: bool
) -> None:
    [message] = fallback().process([classified(first, second)])
    assert (message.get(INTENT)["name"] == "nlu_fallback") is falls_back
