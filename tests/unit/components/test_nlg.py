"""Responses in the conversation's language, with store facts (components/nlg.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from components.nlg import HiloNLG

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker(domain: Domain, language: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("t", [SlotSet("language", language)], domain.slots)


async def test_the_language_slot_picks_the_variation(domain: Domain) -> None:
    nlg = HiloNLG(domain=domain)
    spanish = await nlg.generate("utter_language_switched", tracker(domain, "es"), "sandbox")
    english = await nlg.generate("utter_language_switched", tracker(domain, "en"), "sandbox")
    assert spanish is not None
    assert english is not None
    assert "español" in spanish["text"]
    assert "English" in english["text"]


async def test_a_language_the_action_passes_wins_over_the_slot(domain: Domain) -> None:
    """The action that switches the language answers before Rasa applies its SlotSet."""
    nlg = HiloNLG(domain=domain)
    answer = await nlg.generate(
        "utter_language_switched", tracker(domain, "es"), "sandbox", language="en"
    )
    assert answer is not None
    assert "English" in answer["text"]
