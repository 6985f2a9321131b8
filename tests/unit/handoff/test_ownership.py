"""Bot or people: the events of each move, and a hand-back that is safe to repeat and to crash.

The hand-backs run on SQLite and PostgreSQL, against Rasa's in-memory tracker and lock stores
and, with the trained model, against the agent as it runs (its windowed SQL tracker store).
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.shared.core.events import UserUttered

from handoff.auth import Accounts
from handoff.case import Case, Status
from handoff.ownership import (
    ACTIVE_SLOT,
    CASE_SLOT,
    HandBack,
    rasa_events,
    to_bot_events,
    to_people_events,
)
from handoff.ownership_store import Owner
from handoff.store import CaseStore
from tests.unit.handoff.conftest import agent, new


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


@pytest.fixture(params=["in_memory", pytest.param("model", marks=pytest.mark.model)])
def rasa(request: pytest.FixtureRequest, domain: Any) -> Any:
    """What `HandBack` uses of the Rasa server's agent: its tracker and lock stores."""
    if request.param == "model":
        return request.getfixturevalue("agent")
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore

    return SimpleNamespace(
        tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore()
    )


def parked(store: CaseStore, rasa: Any) -> Case:
    """A new conversation with people: its case, and its tracker paused by the handoff."""
    case, _ = store.open_case(new(f"sandbox:{uuid.uuid4().hex[:10]}", channel="sandbox"))

    async def pause() -> None:
        tracker = await rasa.tracker_store.get_or_create_tracker(case.conversation_id)
        tracker.update(UserUttered("quiero hablar con una persona"))
        for event in rasa_events(to_people_events(case.id, "customer_asked")):
            tracker.update(event)
        await rasa.tracker_store.save(tracker)

    asyncio.run(pause())
    return case


def resolved(store: CaseStore, accounts: Accounts, rasa: Any) -> Case:
    """A conversation an agent gave back to the bot, with a correction: the hand-back pending."""
    case = parked(store, rasa)
    sofia = agent(accounts, "sofia", role="supervisor")
    store.claim(case.id, sofia)
    return store.resolve(case.id, sofia, return_to_bot=True, corrections={"order_id": "10002"})


def tracker_of(rasa: Any, conversation: str) -> Any:
    return asyncio.run(rasa.tracker_store.retrieve(conversation))


def test_a_crash_after_the_tracker_resumed_is_finished_by_the_retry(
    store: CaseStore, accounts: Accounts, rasa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tracker was saved, then the process died before the record was: the record is
    still pending, and the retry only finishes it (the tracker is written once)."""
    case = resolved(store, accounts, rasa)
    conversation = case.conversation_id
    hand_backs = HandBack(store, lambda: rasa, lambda _conversation: None)
    finish = store.back_to_bot

    def crash(case_id: int, actor: str = "system") -> bool:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(store, "back_to_bot", crash)
    with pytest.raises(ConnectionError):
        asyncio.run(hand_backs.settle(conversation))
    resumed = tracker_of(rasa, conversation)
    assert not resumed.is_paused()
    assert resumed.get_slot("order_id") == "10002"
    record = store.ownership(conversation)
    assert record is not None
    assert record.handing_back
    assert store.get(case.id).status is Status.RESOLVED

    monkeypatch.setattr(store, "back_to_bot", finish)
    asyncio.run(hand_backs.settle(conversation))  # the lane's next turn
    after = tracker_of(rasa, conversation)
    assert len(after.events) == len(resumed.events)  # nothing written twice
    record = store.ownership(conversation)
    assert record is not None
    assert (record.owner, record.pending) == (Owner.BOT, None)
    assert record.applied_at is not None
    assert store.get(case.id).status is Status.BOT


def test_a_hand_back_repeated_after_it_was_applied_changes_nothing(
    store: CaseStore, accounts: Accounts, rasa: Any
) -> None:
    """Another replica, or the sweep and a turn, ask for the same hand-back again."""
    case = resolved(store, accounts, rasa)
    conversation = case.conversation_id
    hand_backs = HandBack(store, lambda: rasa, lambda _conversation: None)
    assert asyncio.run(hand_backs.hand_back(conversation))
    done = tracker_of(rasa, conversation)
    record = store.ownership(conversation)

    assert asyncio.run(hand_backs.hand_back(conversation))
    asyncio.run(hand_backs.settle(conversation))
    assert not store.back_to_bot(case.id)  # the case looked up again: already applied
    again = tracker_of(rasa, conversation)
    assert len(again.events) == len(done.events)
    assert not again.is_paused()
    assert again.get_slot("order_id") == "10002"
    assert store.ownership(conversation) == record
    moves = [e.detail["to"] for e in store.audit_log(case.id) if e.action == "status"]
    assert moves.count("bot") == 1


def test_a_late_hand_back_never_resumes_a_conversation_parked_again(
    store: CaseStore, accounts: Accounts, rasa: Any
) -> None:
    """The customer asked for a person again before the hand-back ran: people keep it."""
    case = resolved(store, accounts, rasa)
    conversation = case.conversation_id
    fresh, created = store.open_case(new(conversation, channel="sandbox"))
    assert created
    hand_backs = HandBack(store, lambda: rasa, lambda _conversation: None)
    assert asyncio.run(hand_backs.hand_back(conversation))
    assert tracker_of(rasa, conversation).is_paused()
    record = store.ownership(conversation)
    assert record is not None
    assert (record.owner, record.case_id, record.pending) == (Owner.PEOPLE, fresh.id, None)
    assert store.get(case.id).status is Status.RESOLVED


def test_a_hand_back_waits_for_the_bot_to_be_ready(store: CaseStore, accounts: Accounts) -> None:
    case, _ = store.open_case(new("sandbox:x", channel="sandbox"))
    sofia = agent(accounts, "sofia", role="supervisor")
    store.claim(case.id, sofia)
    store.resolve(case.id, sofia, return_to_bot=True)
    assert not asyncio.run(HandBack(store, lambda: None, lambda _c: None).hand_back("sandbox:x"))
    record = store.ownership("sandbox:x")
    assert record is not None
    assert record.handing_back
    assert store.get(case.id).status is Status.RESOLVED


def test_the_sweep_wakes_the_lanes_of_pending_hand_backs_only(
    store: CaseStore, accounts: Accounts
) -> None:
    """The hand-back runs on the conversation's lane (under its lease), never in the sweep."""
    sofia = agent(accounts, "sofia", role="supervisor")
    cases = [
        store.open_case(new(f"sandbox:{name}", channel="sandbox"))[0]
        for name in ("queued", "resolved", "kept")
    ]
    for case in cases[1:]:
        store.claim(case.id, sofia)
    store.resolve(cases[1].id, sofia, return_to_bot=True, corrections={})
    store.resolve(cases[2].id, sofia, return_to_bot=False, corrections={})
    woken: list[str] = []
    assert asyncio.run(HandBack(store, lambda: None, woken.append).sweep()) == 1
    assert woken == ["sandbox:resolved"]
    record = store.ownership("sandbox:resolved")
    assert record is not None
    assert record.handing_back  # the lane applies it, not the sweep
