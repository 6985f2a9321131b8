"""The handoff's side of retention: what is kept, cases anonymised, sessions and counters."""

from __future__ import annotations

import time

import sqlalchemy as sa

from handoff import retention
from handoff.auth import Accounts
from handoff.case import Status
from handoff.models import case_events, cases, login_throttle, notes, ownership, sessions
from handoff.personal_data import ERASED_PREFIX
from handoff.store import CaseStore
from tests.unit.handoff.conftest import agent, new

DAY = 86400.0


def age(store: CaseStore, case_id: int, days: float) -> None:
    """The case was last updated `days` ago."""
    with store.engine.begin() as connection:
        connection.execute(
            cases.update().where(cases.c.id == case_id).values(updated_at=time.time() - days * DAY)
        )


def test_open_cases_and_conversations_people_own_are_kept(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana", role="agent")
    queued, _ = store.open_case(new("whatsapp:+5215500000001"))
    closed, _ = store.open_case(new("whatsapp:+5215500000002"))
    store.claim(closed.id, ana)
    store.resolve(closed.id, ana, return_to_bot=False)  # closed: people keep the conversation
    back, _ = store.open_case(new("telegram:3"))
    store.claim(back.id, ana)
    store.resolve(back.id, ana, return_to_bot=True)
    store.back_to_bot(back.id)  # the bot's again
    with store.engine.connect() as connection:
        assert retention.kept_conversations(connection) == {
            "whatsapp:+5215500000001",
            "whatsapp:+5215500000002",
        }
    for case in (queued, closed, back):
        age(store, case.id, 800)
    with store.engine.connect() as connection:
        assert retention.expired_cases(connection, time.time() - 730 * DAY) == [back.id]


def test_an_expired_case_is_anonymised_once_and_a_reopened_one_is_not(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana", role="agent")
    gone, _ = store.open_case(
        new("telegram:1", customer_name="Ana Ruiz", profile_id=7, collected={"email": "a@x.mx"})
    )
    store.claim(gone.id, ana)
    store.add_note(gone.id, ana, "called her at home")
    store.resolve(gone.id, ana, return_to_bot=True, outcome="refunded")
    store.back_to_bot(gone.id)
    again, _ = store.open_case(new("telegram:2"))
    store.claim(again.id, ana)
    store.resolve(again.id, ana, return_to_bot=True)
    store.back_to_bot(again.id)
    age(store, gone.id, 800)
    age(store, again.id, 800)
    before = time.time() - 730 * DAY
    with store.engine.connect() as connection:
        planned = retention.expired_cases(connection, before)
        in_use_after = retention.profiles_in_use(connection, before)
    assert planned == [gone.id, again.id]
    assert in_use_after == set()  # the profile goes free with the anonymised case
    store.open_case(new("telegram:2"))  # the customer came back meanwhile: it is kept whole
    with store.engine.begin() as connection:
        dry = retention.anonymise_cases(connection, planned, before, time.time(), apply=False)
    with store.engine.begin() as connection:
        done = retention.anonymise_cases(connection, planned, before, time.time(), apply=True)
    assert done == dry
    assert done["cases_anonymised"] == 1
    assert done["notes"] == 1
    assert done["ownership_records"] == 1
    case = store.get(gone.id)
    assert case.conversation_id.startswith(ERASED_PREFIX)
    assert (case.customer_name, case.profile_id, case.collected, case.summary) == (
        None,
        None,
        {},
        "",
    )
    assert (case.outcome, case.media, case.corrections) == (None, (), {})
    assert case.status is Status.BOT
    assert store.get(again.id).conversation_id == "telegram:2"
    with store.engine.connect() as connection:
        assert not connection.execute(sa.select(notes)).all()
        details = connection.execute(
            sa.select(case_events.c.action, case_events.c.detail).where(
                case_events.c.case_id == gone.id
            )
        ).all()
        assert {detail for _, detail in details} == {"{}"}
        assert ("anonymised", "{}") in details
        assert retention.expired_cases(connection, before) == []  # never twice
        owners = connection.execute(sa.select(ownership.c.conversation_id)).scalars().all()
    assert owners == ["telegram:2"]


def test_live_sessions_and_running_brakes_are_never_removed(
    store: CaseStore, accounts: Accounts
) -> None:
    ana = agent(accounts, "ana", role="agent")
    now = time.time()
    with store.engine.begin() as connection:
        for token, created, expires in (
            ("ended", now - 40 * DAY, now - 40 * DAY + 3600),
            ("alive", now - 40 * DAY, now + 3600),
        ):
            connection.execute(
                sessions.insert().values(
                    token_hash=token,
                    agent_id=ana.id,
                    csrf_token="c",
                    created_at=created,
                    expires_at=expires,
                )
            )
        for key, next_allowed in (("user:a", now - 40 * DAY), ("user:b", now + 300)):
            connection.execute(
                login_throttle.insert().values(
                    key=key, attempts=9, next_allowed_at=next_allowed, updated_at=now - 40 * DAY
                )
            )
        before = now - 30 * DAY
        assert retention.forget_sessions(connection, before, now, apply=False) == 1
        assert retention.forget_sessions(connection, before, now, apply=True) == 1
        assert retention.forget_login_attempts(connection, before, now, apply=True) == 1
        assert connection.execute(sa.select(sessions.c.token_hash)).scalars().all() == ["alive"]
        assert connection.execute(sa.select(login_throttle.c.key)).scalars().all() == ["user:b"]
