"""When to try a delivery again: exponential, capped, with jitter.

After the n-th failed attempt the worker waits `min(cap, base * 2**(n-1))`, of which the
second half is random ("equal jitter"): never sooner than half the step, so a CRM that is
down is not hammered, and deliveries that failed together do not all return together. With
the defaults (10 s, capped at 10 minutes) a CRM down for an hour sees about a dozen attempts
per delivery, and everything waiting is sent within one step of its return (sooner: the
first success makes the others due, crm/delivery.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """The retry schedule (seconds)."""

    base: float = 10.0
    cap: float = 600.0

    def step(self, failures: int) -> float:
        """The step after `failures` failed attempts (1 or more), before jitter."""
        exponent = min(max(failures, 1) - 1, 32)
        return float(min(self.cap, self.base * 2**exponent))

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """How long to wait after `failures` failed attempts: in [step/2, step]."""
        step = self.step(failures)
        return step / 2 + step / 2 * rand()
