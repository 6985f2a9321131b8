"""Cases in the database, on SQLite and PostgreSQL: opening, claiming, assigning, resolving."""

from __future__ import annotations

import threading
import time

import pytest

from handoff.auth import Accounts
from handoff.case import Reason, Status
from handoff.store import Agent, CapacityReached, CaseStore, Conflict, NotCorrectable
from tests.unit.handoff.conftest import agent, new


def test_a_conversation_has_one_case_with_people_at_a_time(store: CaseStore) -> None:
    case, created = store.open_case(new(collected={"order_id": "10001"}))
    again, created_again = store.open_case(new(reason=Reason.COMPLAINT))
    assert created
    assert not created_again
    assert again.id == case.id
    assert case.status is Status.QUEUED
    assert case.collected == {"order_id": "10001"}
    assert store.parked(case.conversation_id)
    assert not store.parked("whatsapp:+1")
    assert [e.action for e in store.audit_log(case.id)] == ["opened"]


def test_the_queue_is_sorted_by_sla_or_window_whichever_comes_first(store: CaseStore) -> None:
    now = time.time()
    late, _ = store.open_case(new("a", sla_due_at=now + 7200))
    window, _ = store.open_case(new("b", sla_due_at=now + 7200, window_closes_at=now + 600))
    soon, _ = store.open_case(new("c", sla_due_at=now + 1800))
    assert [c.id for c in store.find()] == [window.id, soon.id, late.id]
    assert window.urgent_at == pytest.approx(now + 600)


def test_claims_are_first_come_and_capacity_is_respected(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana", capacity=1)
    beto = agent(accounts, "beto")
    case, _ = store.open_case(new("x"))
    other, _ = store.open_case(new("y"))
    taken = store.claim(case.id, ana)
    assert (taken.status, taken.assignee_id, taken.assignee_name) == (
        Status.ASSIGNED,
        ana.id,
        "ana",
    )
    with pytest.raises(Conflict):
        store.claim(case.id, beto)
    with pytest.raises(CapacityReached):
        store.claim(other.id, ana)


def test_claim_next_takes_the_most_urgent_of_the_agents_team(
    store: CaseStore, accounts: Accounts
) -> None:
    now = time.time()
    ventas = agent(accounts, "vero", team="ventas")
    store.open_case(new("a", sla_due_at=now + 60, team="pagos"))
    mine, _ = store.open_case(new("b", sla_due_at=now + 120, team="ventas"))
    anyone, _ = store.open_case(new("c", sla_due_at=now + 180))
    assert store.claim_next(ventas).id == mine.id
    assert store.claim_next(ventas).id == anyone.id
    assert store.claim_next(ventas) is None


def test_auto_assign_picks_the_least_loaded_available_agent(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana")
    beto = agent(accounts, "beto")
    agent(accounts, "carla", role="admin")  # admins do not take cases
    accounts.set_available(beto.id, False)
    first, _ = store.open_case(new("a"))
    assert store.auto_assign(first.id).assignee_id == ana.id
    accounts.set_available(beto.id, True)
    second, _ = store.open_case(new("b"))
    assert store.auto_assign(second.id).assignee_id == beto.id
    third, _ = store.open_case(new("c"))
    assert store.auto_assign(third.id).assignee_id in (ana.id, beto.id)


def test_waiting_cases_go_to_agents_as_they_free_up(store: CaseStore, accounts: Accounts) -> None:
    ana = agent(accounts, "ana", capacity=1)
    held, _ = store.open_case(new("a"))
    store.claim(held.id, ana)
    waiting, _ = store.open_case(new("b"))
    assert store.assign_waiting() == []
    store.resolve(held.id, ana, return_to_bot=True)
    (assigned,) = store.assign_waiting()
    assert (assigned.id, assigned.assignee_id) == (waiting.id, ana.id)


def test_transfer_to_an_agent_or_back_to_a_teams_queue(
    store: CaseStore, accounts: Accounts
) -> None:
    ana, beto = agent(accounts, "ana"), agent(accounts, "beto")
    case, _ = store.open_case(new())
    store.claim(case.id, ana)
    moved = store.transfer(case.id, ana, to_agent=beto)
    assert (moved.status, moved.assignee_id) == (Status.ASSIGNED, beto.id)
    queued = store.transfer(case.id, beto, team="pagos")
    assert (queued.status, queued.assignee_id, queued.team) == (Status.QUEUED, None, "pagos")
    actions = [e.action for e in store.audit_log(case.id)]
    assert actions.count("transferred") == 2


def test_resolving_keeps_the_corrections_and_hands_back(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana")
    case, _ = store.open_case(new(collected={"order_id": "10001", "delivery_city": "CDMX"}))
    store.claim(case.id, ana)
    store.replied(case.id, ana)
    resolved = store.resolve(
        case.id,
        ana,
        return_to_bot=True,
        outcome="Dirección corregida",
        corrections={"delivery_city": "Monterrey"},
    )
    assert resolved.status is Status.RESOLVED
    assert resolved.collected == {"order_id": "10001", "delivery_city": "Monterrey"}
    assert resolved.corrections == {"delivery_city": "Monterrey"}
    assert resolved.first_reply_at is not None
    assert store.parked(case.conversation_id)  # silent until Rasa has resumed the bot
    assert store.back_to_bot(case.id)
    assert store.get(case.id).status is Status.BOT
    assert not store.parked(case.conversation_id)
    fresh, created = store.open_case(new())  # a later handoff is a new case
    assert created
    assert [c.id for c in store.earlier(fresh)] == [case.id]


@pytest.mark.parametrize(
    "slot", ["verified_contact", "order_verified", "handoff_active", "requested_slot", "x"]
)
def test_a_correction_of_anything_but_customer_data_is_refused(
    store: CaseStore, accounts: Accounts, slot: str
) -> None:
    ana = agent(accounts, "ana")
    case, _ = store.open_case(new(collected={"order_id": "10001"}))
    store.claim(case.id, ana)
    with pytest.raises(NotCorrectable, match=slot):
        store.resolve(case.id, ana, return_to_bot=True, corrections={slot: "p1.forged"})
    assert store.get(case.id).status is Status.ASSIGNED  # nothing changed
    assert store.get(case.id).corrections == {}


def test_a_closed_case_opens_again_when_the_customer_writes(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana")
    case, _ = store.open_case(new())
    store.claim(case.id, ana)
    closed = store.resolve(case.id, ana, return_to_bot=False)
    assert closed.status is Status.CLOSED
    reopened = store.customer_wrote(case.id, time.time(), None)
    assert (reopened.status, reopened.assignee_id) == (Status.QUEUED, None)


def test_notes_search_and_stats(store: CaseStore, accounts: Accounts) -> None:
    ana = agent(accounts, "ana", role="supervisor")
    case, _ = store.open_case(
        new(customer_name="Ana Martínez", collected={"order_id": "10001"}, sla_due_at=1.0)
    )
    store.add_note(case.id, ana, "Cliente pide factura")
    assert [n["text"] for n in store.notes(case.id)] == ["Cliente pide factura"]
    assert [c.id for c in store.search("martínez")] == [case.id]
    assert [c.id for c in store.search("10001")] == [case.id]
    assert [c.id for c in store.search("5512345678")] == [case.id]
    assert store.search("100%") == []  # LIKE wildcards are literal
    stats = store.stats()
    assert (stats["queue_depth"], stats["sla_breaches"], stats["open_cases"]) == (1, 1, 1)
    assert stats["agents"][0]["load"] == 0


def test_fifty_concurrent_claimers_never_take_a_case_twice(
    store: CaseStore, accounts: Accounts
) -> None:
    agents = [agent(accounts, f"agente{i}", capacity=100) for i in range(50)]
    for index in range(120):
        store.open_case(new(f"c{index}", sla_due_at=time.time() + index))
    taken: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(agents))

    def work(person: Agent) -> None:
        start.wait()
        while True:
            try:
                case = store.claim_next(person)
            except Conflict:
                continue
            if case is None:
                return
            with lock:
                taken.append((case.id, person.id))

    threads = [threading.Thread(target=work, args=(person,)) for person in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [case_id for case_id, _ in taken]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    for case_id, person in taken:
        assert store.get(case_id).assignee_id == person


def test_an_acknowledgement_is_taken_once_per_interval(store: CaseStore) -> None:
    case, _ = store.open_case(new())
    now = time.time()
    assert not store.take_acknowledgement(case.id, now, 3600)  # the promise was just made
    later = now + 4 * 3600
    assert store.take_acknowledgement(case.id, later, 3600)
    assert not store.take_acknowledgement(case.id, later + 60, 3600)  # another desk process
    assert store.take_acknowledgement(case.id, later + 3601, 3600)
