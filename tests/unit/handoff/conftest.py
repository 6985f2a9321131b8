"""A migrated handoff database per test (SQLite, and PostgreSQL when it is configured), its
store and accounts, and the cases and agents the store tests make on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.auth import Accounts
from handoff.case import Reason
from handoff.database import make_engine, migrate
from handoff.store import Agent, CaseStore, NewCase
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path, "handoff") as address:
        migrate(address)
        yield address


@pytest.fixture
def store(url: str) -> Iterator[CaseStore]:
    engine = make_engine(url)
    yield CaseStore(engine)
    engine.dispose()


@pytest.fixture
def accounts(store: CaseStore) -> Accounts:
    return Accounts(store.engine)


def new(conversation: str = "whatsapp:+5215512345678", **kw) -> NewCase:
    values = {
        "channel": "whatsapp",
        "reason": Reason.CUSTOMER_ASKED,
        "language": "es",
        "sla_due_at": time.time() + 3600,
    } | kw
    return NewCase(conversation_id=conversation, **values)


def agent(accounts: Accounts, name: str, **kw) -> Agent:
    return accounts.create(name, "password-123", **kw)
