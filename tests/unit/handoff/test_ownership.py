"""Bot or people: the events of each move, and a hand-back that is safe to repeat."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from rasa.shared.core.events import UserUttered

from handoff.auth import Accounts
from handoff.case import Reason, Status
from handoff.database import make_engine, migrate
from handoff.ownership import (
    ACTIVE_SLOT,
    CASE_SLOT,
    HandBack,
    rasa_events,
    to_bot_events,
    to_people_events,
)
from handoff.store import CaseStore, NewCase


def test_to_people_and_back_are_each_others_inverse_on_the_tracker_flags() -> None:
    there = to_people_events(7, "complaint")
    back = to_bot_events({"order_id": "10004"}, "refunded")
    assert there[-1]["event"] == "pause"
    assert {"name": CASE_SLOT, "value": "7"}.items() <= there[2].items()
    assert {"name": "order_id", "value": "10004"}.items() <= back[0].items()
    assert [e["event"] for e in back[-2:]] == ["resume", "action"]
    assert back[-1]["name"] == "action_listen"
    assert {"name": ACTIVE_SLOT, "value": False}.items() <= back[1].items()
    assert len(rasa_events(there + back)) == len(there + back)  # Rasa reads every one


@pytest.mark.model
def test_a_hand_back_done_twice_writes_the_tracker_once(agent, tmp_path: Path) -> None:
    """A crash after the tracker was saved and before the case moved: the retry only moves
    the case (the tracker is no longer with people)."""
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    store = CaseStore(make_engine(url))
    conversation = f"sandbox:{uuid.uuid4().hex[:10]}"
    case, _ = store.open_case(
        NewCase(conversation, "sandbox", Reason.CUSTOMER_ASKED, "es", time.time() + 3600)
    )
    sofia = Accounts(store.engine).create(
        "sofia", "password-123", role="supervisor", display_name="Sofía"
    )
    store.claim(case.id, sofia)
    case = store.resolve(case.id, sofia, return_to_bot=True, corrections={"order_id": "10002"})

    async def scenario() -> tuple[int, int, bool, object]:
        tracker = await agent.tracker_store.get_or_create_tracker(conversation)
        tracker.update(UserUttered("quiero hablar con una persona"))
        for event in rasa_events(to_people_events(case.id, "customer_asked")):
            tracker.update(event)
        await agent.tracker_store.save(tracker)
        hand_backs = HandBack(store, lambda: agent, lambda _conversation: None)
        assert await hand_backs.hand_back(case)
        first = len((await agent.tracker_store.retrieve(conversation)).events)
        assert await hand_backs.hand_back(case)  # the retry after a "crash"
        after = await agent.tracker_store.retrieve(conversation)
        return first, len(after.events), after.is_paused(), after.get_slot("order_id")

    first, second, paused, order = asyncio.run(scenario())
    assert first == second
    assert not paused
    assert order == "10002"
    assert store.get(case.id).status is Status.BOT


def test_a_hand_back_waits_for_the_bot_to_be_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    store = CaseStore(make_engine(url))
    case, _ = store.open_case(
        NewCase("sandbox:x", "sandbox", Reason.CUSTOMER_ASKED, "es", time.time() + 3600)
    )
    assert not asyncio.run(HandBack(store, lambda: None, lambda _c: None).hand_back(case))
    assert store.get(case.id).status is Status.QUEUED


def test_the_sweep_wakes_the_lanes_of_resolved_cases_only(tmp_path: Path) -> None:
    """The hand-back runs on the conversation's lane (under its lease), never in the sweep."""
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    migrate(url)
    store = CaseStore(make_engine(url))
    sofia = Accounts(store.engine).create(
        "sofia", "password-123", role="supervisor", display_name="Sofía"
    )
    cases = [
        store.open_case(
            NewCase(f"sandbox:{name}", "sandbox", Reason.CUSTOMER_ASKED, "es", time.time() + 60)
        )[0]
        for name in ("queued", "resolved", "kept")
    ]
    for case in cases[1:]:
        store.claim(case.id, sofia)
    store.resolve(cases[1].id, sofia, return_to_bot=True, corrections={})
    store.resolve(cases[2].id, sofia, return_to_bot=False, corrections={})
    woken: list[str] = []
    assert asyncio.run(HandBack(store, lambda: None, woken.append).sweep()) == 1
    assert woken == ["sandbox:resolved"]
    assert store.get(cases[1].id).status is Status.RESOLVED  # the lane moves it, not the sweep
