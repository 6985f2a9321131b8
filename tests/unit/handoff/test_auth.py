"""Desk accounts (handoff/auth.py): password hashing at OWASP's cost, rehashed when it
changes, sessions that end, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from handoff import auth
from handoff.auth import Accounts, AuthError, hash_password, needs_rehash, verify_password
from handoff.database import make_engine, migrate
from handoff.models import agents, sessions
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Accounts]:
    with database(request.param, tmp_path, "handoff") as url:
        migrate(url)
        engine = make_engine(url)
        yield Accounts(engine)
        engine.dispose()


def test_hashes_use_owasps_scrypt_cost() -> None:
    scheme, n, r, p, _, _ = hash_password("una-clave-larga").split("$")
    # OWASP: N=2^17, r=8, p=1 or the same cost N=2^14, r=8, p=5.
    assert (scheme, int(r)) == ("scrypt", 8)
    assert int(n) * int(p) >= 2**14 * 5
    assert verify_password("una-clave-larga", hash_password("una-clave-larga"))
    assert not verify_password("otra", hash_password("una-clave-larga"))


def test_a_hash_made_at_the_old_cost_is_remade_at_the_next_login(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "_SCRYPT", {"n": 2**14, "r": 8, "p": 1})  # wave 1's cost
    accounts.create("ana", "una-clave-larga")
    monkeypatch.undo()
    stored = _hash_of(accounts, "ana")
    assert needs_rehash(stored)
    accounts.login("ana", "una-clave-larga")
    remade = _hash_of(accounts, "ana")
    assert not needs_rehash(remade)
    assert remade != stored
    assert accounts.login("ana", "una-clave-larga").agent.username == "ana"


def test_a_wrong_password_changes_nothing(accounts: Accounts) -> None:
    accounts.create("ana", "una-clave-larga")
    stored = _hash_of(accounts, "ana")
    with pytest.raises(AuthError):
        accounts.login("ana", "una-clave-largo")
    assert _hash_of(accounts, "ana") == stored


def test_sessions_end_on_logout_expiry_and_deactivation(accounts: Accounts) -> None:
    accounts.create("ana", "una-clave-larga")
    first = accounts.login("ana", "una-clave-larga")
    assert accounts.alive(first.token)
    accounts.logout(first.token)
    assert not accounts.alive(first.token)
    second = accounts.login("ana", "una-clave-larga")
    with accounts.engine.begin() as connection:
        connection.execute(sessions.update().values(expires_at=0.0))
    assert not accounts.alive(second.token)
    assert accounts.prune() == 1
    third = accounts.login("ana", "una-clave-larga")
    accounts.set_active("ana", False)
    assert not accounts.alive(third.token)


def _hash_of(accounts: Accounts, username: str) -> str:
    with accounts.engine.connect() as connection:
        return str(
            connection.execute(
                sa.select(agents.c.password_hash).where(agents.c.username == username)
            ).scalar_one()
        )


def test_new_agents_are_checked_against_the_columns(accounts: Accounts) -> None:
    """PostgreSQL refused these with a DataError, and a negative capacity was "taken"."""
    for username, extra, said in (
        ("u" * 65, {}, "username: at most 64"),
        ("nuevo", {"display_name": "A" * 121}, "display name: at most 120"),
        ("nuevo", {"team": "t" * 65}, "team: at most 64"),
        ("nuevo", {"capacity": -1}, "capacity: from 0"),
        ("nuevo", {"capacity": 2**31}, "capacity: from 0"),
    ):
        with pytest.raises(ValueError, match=said):
            accounts.create(username, "password-123", **extra)
    assert accounts.all() == []
    assert accounts.create("u" * 64, "password-123", capacity=0, team="t" * 64).capacity == 0
