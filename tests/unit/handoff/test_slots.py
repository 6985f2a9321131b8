"""The slot facts the case view sends the desk (handoff/slots.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from handoff.case import CORRECTABLE_SLOTS
from handoff.slots import ADDABLE, LABELS, TYPES, slot_facts

DOMAIN = Path(__file__).resolve().parents[3] / "domain.yml"


def test_every_labelled_slot_is_in_the_domain_and_every_correctable_one_has_a_label() -> None:
    slots = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["slots"])
    assert set(LABELS) <= slots
    assert set(LABELS) >= CORRECTABLE_SLOTS


def test_a_slot_an_agent_can_add_is_one_they_can_correct() -> None:
    assert set(ADDABLE) <= CORRECTABLE_SLOTS
    assert set(TYPES) <= set(LABELS)


def test_the_facts_have_both_languages_and_a_type() -> None:
    facts = slot_facts()
    assert facts["addable_slots"] == list(ADDABLE)
    assert facts["slots"]["quantity"] == {"es": "Cantidad", "en": "Quantity", "type": "number"}
    assert facts["slots"]["order_id"]["type"] == "text"
