"""Wrong passwords slow down, per username and per client address, in the database.

The desk used to count wrong passwords in each process's memory, after checking them: 30
parallel guesses were all checked, a second desk process had its own count, and five wrong
passwords locked the real user out for ten minutes. Here every attempt is counted *before*
the password is checked, atomically, in the handoff database every desk process shares:

- each key ("user:<name>", "ip:<keyed pseudonym of the address>") has a row with the
  attempts since its last success and `next_allowed_at`;
- an attempt is let through only by an UPDATE whose WHERE says `next_allowed_at <= now`, and
  that same UPDATE counts it and sets the next delay. Concurrent attempts serialize on the
  row (PostgreSQL's row lock; SQLite's BEGIN IMMEDIATE), so once the free attempts are used,
  exactly one attempt per delay gets through, however many arrive together;
- delays grow (2 s, 4 s, … 5 minutes) instead of locking anyone out; a refused attempt is
  not counted, so hammering a username does not lengthen the wait of its owner;
- a success clears the username's row and takes back its own count on the address (an
  attacker who logs into their own account between guesses gains nothing: each guess
  still waits its delay); rows untouched for an hour are forgotten.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from handoff.models import login_throttle
from hilo.pseudonyms import pseudonym

FREE_ATTEMPTS = 3
# Seconds to wait after the 4th, 5th, … attempt without a success (the last one repeats).
DELAYS = (2.0, 4.0, 8.0, 16.0, 30.0, 60.0, 120.0, 300.0)
FORGET_AFTER_SECONDS = 3600.0
_RETRIES = 3


@dataclass
class Throttled(Exception):
    """Too many attempts: the next one is allowed in `retry_after` seconds."""

    retry_after: float

    def __str__(self) -> str:
        """What the desk shows."""
        return f"too many attempts; try again in {math.ceil(self.retry_after)} s"


def delay_after(attempts: int) -> float:
    """The wait before the attempt after `attempts` ones without a success."""
    if attempts <= FREE_ATTEMPTS:
        return 0.0
    return DELAYS[min(attempts - FREE_ATTEMPTS - 1, len(DELAYS) - 1)]


def _next_allowed(attempts: int, now: float) -> float:
    """When the next attempt may come: at once (0) while attempts are free."""
    wait = delay_after(attempts)
    return now + wait if wait else 0.0


def keys_for(username: str, address: str | None) -> list[str]:
    """The keys an attempt counts against: the username and (pseudonymized) the address."""
    keys = [f"user:{username.strip().lower()[:70]}"]
    if address:
        keys.append(f"ip:{pseudonym(address)}")
    return keys


class LoginThrottle:
    """Counts login attempts in the handoff database (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        """Uses `engine` (migrated with `handoff.database.migrate`)."""
        self.engine = engine

    def attempt(self, keys: list[str], now: float | None = None) -> None:
        """Counts one attempt against every key, or raises `Throttled` and counts nothing."""
        now = time.time() if now is None else now
        for retry in range(_RETRIES):
            try:
                with self.engine.begin() as connection:
                    self._forget_old(connection, now)
                    for key in keys:
                        self._take(connection, key, now)
                return
            except IntegrityError:  # two first attempts on a key raced to create its row
                if retry == _RETRIES - 1:
                    raise

    def succeeded(self, keys: list[str], now: float | None = None) -> None:
        """A right password: the username starts over; the address gets this attempt back."""
        now = time.time() if now is None else now
        users = [key for key in keys if key.startswith("user:")]
        others = [key for key in keys if not key.startswith("user:")]
        with self.engine.begin() as connection:
            if users:
                connection.execute(login_throttle.delete().where(login_throttle.c.key.in_(users)))
            if others:
                connection.execute(
                    login_throttle.update()
                    .where(login_throttle.c.key.in_(others), login_throttle.c.attempts > 0)
                    .values(attempts=login_throttle.c.attempts - 1, updated_at=now)
                )

    def prune(self, now: float | None = None) -> int:
        """Forgets rows untouched for an hour; how many."""
        now = time.time() if now is None else now
        with self.engine.begin() as connection:
            return self._forget_old(connection, now)

    @staticmethod
    def _forget_old(connection: Connection, now: float) -> int:
        old = login_throttle.c.updated_at < now - FORGET_AFTER_SECONDS
        return int(connection.execute(login_throttle.delete().where(old)).rowcount or 0)

    @staticmethod
    def _take(connection: Connection, key: str, now: float) -> None:
        attempts = login_throttle.c.attempts + 1
        waits = {n: _next_allowed(n, now) for n in range(1, FREE_ATTEMPTS + len(DELAYS) + 1)}
        taken = connection.execute(
            login_throttle.update()
            .where(login_throttle.c.key == key, login_throttle.c.next_allowed_at <= now)
            .values(
                attempts=attempts,
                next_allowed_at=sa.case(waits, value=attempts, else_=now + DELAYS[-1]),
                updated_at=now,
            )
        ).rowcount
        if taken:
            return
        row = connection.execute(
            sa.select(login_throttle.c.next_allowed_at).where(login_throttle.c.key == key)
        ).first()
        if row is not None:
            raise Throttled(retry_after=max(0.0, float(row.next_allowed_at) - now))
        connection.execute(
            login_throttle.insert().values(
                key=key, attempts=1, next_allowed_at=_next_allowed(1, now), updated_at=now
            )
        )
