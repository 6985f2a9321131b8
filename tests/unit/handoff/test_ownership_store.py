"""Who owns the conversation is its own record, written with every case move that changes it.

On SQLite and PostgreSQL: parking gives the conversation to people, resolving back to the bot
leaves the change pending until the hand-back is applied, closing and reopening keep people,
and a handoff while a hand-back is pending cancels it.
"""

from __future__ import annotations

import threading
import time

from handoff.auth import Accounts
from handoff.case import Status
from handoff.ownership_store import TO_BOT, Owner
from handoff.store import CaseStore
from tests.unit.handoff.conftest import agent, new

CONVERSATION = "whatsapp:+5215512345678"


def test_parking_gives_the_conversation_to_people(store: CaseStore) -> None:
    assert store.ownership(CONVERSATION) is None
    before = time.time()
    case, _ = store.open_case(new(CONVERSATION))
    record = store.ownership(CONVERSATION)
    assert record is not None
    assert (record.owner, record.case_id, record.pending) == (Owner.PEOPLE, case.id, None)
    assert record.applied_at is not None
    assert record.changed_at >= before
    assert store.parked(CONVERSATION)
    again, created = store.open_case(new(CONVERSATION))
    assert (again.id, created) == (case.id, False)
    assert store.ownership(CONVERSATION) == record  # asking again changes nothing


def test_resolving_back_to_the_bot_is_pending_until_the_hand_back_is_applied(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana")
    case, _ = store.open_case(new(CONVERSATION))
    store.claim(case.id, ana)
    store.resolve(case.id, ana, return_to_bot=True)
    pending = store.ownership(CONVERSATION)
    assert pending is not None
    assert (pending.owner, pending.pending, pending.applied_at) == (Owner.PEOPLE, TO_BOT, None)
    assert pending.handing_back
    assert store.pending_hand_backs() == [pending]
    assert store.parked(CONVERSATION)  # the tracker is still paused: the bot stays silent
    assert store.with_people(CONVERSATION).id == case.id
    assert store.with_people(CONVERSATION, handing_back=False) is None  # people are done

    assert store.back_to_bot(case.id)
    applied = store.ownership(CONVERSATION)
    assert applied is not None
    assert (applied.owner, applied.case_id, applied.pending) == (Owner.BOT, case.id, None)
    assert applied.applied_at is not None
    assert applied.applied_at >= pending.changed_at
    assert store.get(case.id).status is Status.BOT
    assert store.pending_hand_backs() == []
    assert not store.parked(CONVERSATION)
    assert store.with_people(CONVERSATION) is None


def test_closing_reopening_and_passing_the_case_on_keep_it_with_people(
    store: CaseStore, accounts: Accounts
) -> None:
    ana, beto = agent(accounts, "ana"), agent(accounts, "beto")
    case, _ = store.open_case(new(CONVERSATION))
    parked = store.ownership(CONVERSATION)
    store.claim(case.id, ana)
    store.transfer(case.id, ana, to_agent=beto)
    store.release(case.id, beto)
    store.claim(case.id, ana)
    assert store.resolve(case.id, ana, return_to_bot=False).status is Status.CLOSED
    assert store.ownership(CONVERSATION) == parked
    assert store.customer_wrote(case.id, time.time(), None).status is Status.QUEUED
    assert store.ownership(CONVERSATION) == parked
    store.close_unassigned(case.id, ana)
    assert store.ownership(CONVERSATION) == parked
    assert store.pending_hand_backs() == []


def test_a_handoff_while_a_hand_back_is_pending_cancels_it(
    store: CaseStore, accounts: Accounts
) -> None:
    """The customer (or the fail-safe) needs a person again before the bot took over."""
    ana = agent(accounts, "ana")
    resolved, _ = store.open_case(new(CONVERSATION))
    store.claim(resolved.id, ana)
    store.resolve(resolved.id, ana, return_to_bot=True)
    fresh, created = store.open_case(new(CONVERSATION))
    assert created
    assert fresh.id != resolved.id
    record = store.ownership(CONVERSATION)
    assert record is not None
    assert (record.owner, record.case_id, record.pending) == (Owner.PEOPLE, fresh.id, None)
    assert store.pending_hand_backs() == []
    assert not store.back_to_bot(resolved.id)  # a late hand-back of the old case: nothing
    assert store.get(resolved.id).status is Status.RESOLVED
    assert store.ownership(CONVERSATION) == record
    cancelled = [e for e in store.audit_log(resolved.id) if e.action == "hand_back_cancelled"]
    assert [e.detail for e in cancelled] == [{"by_case": fresh.id}]


def test_handoffs_that_race_open_one_case_and_one_record(store: CaseStore) -> None:
    results: list[tuple[int, bool]] = []
    start = threading.Barrier(8)

    def park() -> None:
        start.wait()
        case, created = store.open_case(new(CONVERSATION))
        results.append((case.id, created))

    threads = [threading.Thread(target=park) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len({case_id for case_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    record = store.ownership(CONVERSATION)
    assert record is not None
    assert record.case_id == results[0][0]
