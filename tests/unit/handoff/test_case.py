"""The case's life: every move `transition()` allows, and every one it refuses."""

from __future__ import annotations

import itertools

import pytest

from handoff.case import ALLOWED, InvalidTransition, Reason, Status, transition

LIFE = [
    (Status.BOT, Status.QUEUED),  # the bot hands over
    (Status.QUEUED, Status.ASSIGNED),  # an agent takes it
    (Status.ASSIGNED, Status.QUEUED),  # released or sent to a team
    (Status.ASSIGNED, Status.RESOLVED),  # settled, back to the bot next
    (Status.RESOLVED, Status.BOT),  # the bot has it again
    (Status.ASSIGNED, Status.CLOSED),  # settled, stays with people
    (Status.QUEUED, Status.CLOSED),  # a supervisor closes spam or a duplicate
    (Status.CLOSED, Status.QUEUED),  # the customer writes again
]


@pytest.mark.parametrize(("current", "wanted"), LIFE)
def test_the_moves_a_case_makes(current: Status, wanted: Status) -> None:
    assert transition(1, current, wanted) is wanted


@pytest.mark.parametrize(
    ("current", "wanted"),
    [pair for pair in itertools.product(Status, Status) if pair not in LIFE],
)
def test_every_other_move_is_refused(current: Status, wanted: Status) -> None:
    with pytest.raises(InvalidTransition, match=f"from {current.value} to {wanted.value}"):
        transition(7, current, wanted)


def test_the_table_is_exactly_the_life_above() -> None:
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == set(LIFE)


def test_open_cases_are_the_ones_people_still_have_to_answer() -> None:
    """Who owns the conversation is not read from the status (handoff/ownership_store.py)."""
    assert {s for s in Status if s.open} == {Status.QUEUED, Status.ASSIGNED}


def test_unknown_reasons_count_as_the_customer_asking() -> None:
    assert Reason.parse("damaged_item") is Reason.DAMAGED_ITEM
    assert Reason.parse(None) is Reason.CUSTOMER_ASKED
    assert Reason.parse("something new") is Reason.CUSTOMER_ASKED
