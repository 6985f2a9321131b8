"""Login attempts slow down per username and address, in the database (handoff/throttle.py),
on SQLite and PostgreSQL, with a clock instead of waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from handoff.database import make_engine, migrate
from handoff.throttle import (
    DELAYS,
    FORGET_AFTER_SECONDS,
    FREE_ATTEMPTS,
    LoginThrottle,
    Throttled,
    keys_for,
)
from tests.support.databases import BACKENDS, database

T0 = 1_000_000.0
ANA = keys_for("Ana", "203.0.113.7")


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "handoff") as url:
        migrate(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def throttle(engine: Engine) -> LoginThrottle:
    return LoginThrottle(engine)


def test_the_address_is_never_stored_as_it_is() -> None:
    assert ANA[0] == "user:ana"
    assert ANA[1].startswith("ip:")
    assert "203.0.113.7" not in ANA[1]


def test_free_attempts_then_growing_delays_never_a_lockout(throttle: LoginThrottle) -> None:
    for _ in range(FREE_ATTEMPTS + 1):
        throttle.attempt(ANA, now=T0)
    with pytest.raises(Throttled) as refused:
        throttle.attempt(ANA, now=T0 + 1)
    assert refused.value.retry_after == pytest.approx(DELAYS[0] - 1)
    throttle.attempt(ANA, now=T0 + DELAYS[0])  # the wait is over: allowed, and counted
    with pytest.raises(Throttled) as longer:
        throttle.attempt(ANA, now=T0 + DELAYS[0] + 1)
    assert longer.value.retry_after == pytest.approx(DELAYS[1] - 1)


def test_a_refused_attempt_does_not_lengthen_the_wait(throttle: LoginThrottle) -> None:
    for _ in range(FREE_ATTEMPTS + 1):
        throttle.attempt(ANA, now=T0)
    for second in range(1, 50):  # an attacker hammering the username
        with pytest.raises(Throttled):
            throttle.attempt(ANA, now=T0 + second / 50)
    throttle.attempt(ANA, now=T0 + DELAYS[0])  # the owner, once the first delay is over


def test_a_success_starts_the_username_over_and_gives_the_address_its_attempt_back(
    throttle: LoginThrottle,
) -> None:
    for _ in range(FREE_ATTEMPTS):
        throttle.attempt(ANA, now=T0)
    throttle.attempt(ANA, now=T0)
    throttle.succeeded(ANA, now=T0)
    # The username is fresh; the address still carries the three failures before.
    other = keys_for("beto", "203.0.113.7")
    throttle.attempt(other, now=T0 + DELAYS[0])
    with pytest.raises(Throttled):
        throttle.attempt(other, now=T0 + DELAYS[0] + 0.5)


def test_a_new_address_does_not_escape_the_usernames_delay(throttle: LoginThrottle) -> None:
    for index in range(FREE_ATTEMPTS + 1):
        throttle.attempt(keys_for("ana", f"198.51.100.{index}"), now=T0)
    with pytest.raises(Throttled):
        throttle.attempt(keys_for("ana", "198.51.100.99"), now=T0 + 1)


def test_parallel_guesses_are_counted_before_any_is_checked(throttle: LoginThrottle) -> None:
    """The review raced 30 wrong passwords and all were checked."""
    allowed: list[int] = []
    start = threading.Barrier(30)

    def guess(index: int) -> None:
        start.wait()
        try:
            throttle.attempt(ANA, now=T0)
            allowed.append(index)
        except Throttled:
            pass

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(allowed) == FREE_ATTEMPTS + 1


def test_rows_untouched_for_an_hour_are_forgotten(throttle: LoginThrottle) -> None:
    for _ in range(FREE_ATTEMPTS + 1):
        throttle.attempt(ANA, now=T0)
    assert throttle.prune(now=T0 + 10) == 0
    assert throttle.prune(now=T0 + FORGET_AFTER_SECONDS + 1) == 2
    throttle.attempt(ANA, now=T0 + FORGET_AFTER_SECONDS + 2)
