"""Store facts: parsing, and every placeholder in a response is a fact or a slot."""

from __future__ import annotations

import re

import pytest

from store.facts import FactsError, load_facts, parse_facts


def test_plain_values_apply_to_every_language() -> None:
    facts = parse_facts({"store_name": "Lumen", "hours": {"es": "9 a 18", "en": "9 to 6"}})
    assert facts.for_language("es") == {"store_name": "Lumen", "hours": "9 a 18"}
    assert facts.for_language("en") == {"store_name": "Lumen", "hours": "9 to 6"}
    assert facts.for_language("fr") == facts.for_language("es")


def test_a_fact_missing_a_language_is_an_error() -> None:
    with pytest.raises(FactsError, match="has no text for en"):
        parse_facts({"hours": {"es": "9 a 18"}})


@pytest.mark.parametrize("raw", [None, [], {"x": ["a"]}])
def test_malformed_facts_are_errors(raw: object) -> None:
    with pytest.raises(FactsError):
        parse_facts(raw)


def test_every_response_placeholder_is_a_fact_a_slot_or_filled_by_an_action(domain) -> None:
    from actions.handoff import FILLED_PLACEHOLDERS as HANDOFF_FILLS
    from actions.orders.common import FILLED_PLACEHOLDERS

    names = load_facts().names | {slot.name for slot in domain.slots} | FILLED_PLACEHOLDERS
    names |= HANDOFF_FILLS
    missing = set()
    for response, variations in domain.responses.items():
        for variation in variations:
            for placeholder in re.findall(r"{([^{}\n]+)}", variation.get("text", "")):
                if placeholder not in names:
                    missing.add(f"{response}: {{{placeholder}}}")
    assert not missing


def test_every_response_has_spanish_and_english(domain) -> None:
    for response, variations in domain.responses.items():
        english = [v for v in variations if v.get("condition")]
        spanish = [v for v in variations if not v.get("condition")]
        assert spanish, f"{response} has no Spanish (default) text"
        assert english, f"{response} has no English variation"
        assert all(
            v["condition"] == [{"type": "slot", "name": "language", "value": "en"}] for v in english
        )
