"""Which turns Rasa quietly failed: the actions it logged as failed while a turn ran.

Rasa 3.6 catches an action's failure (the action server down, or an action raising), logs
it at ERROR and carries on with a fallback, so the customer gets "sorry, I don't know" and
nothing else. The channels core runs each turn inside `watch_turn()`; a logging handler on
Rasa's loggers appends to the turn's list, which each turn's task has for its own (a context
variable), so the core can hand the conversation to a person (see connectors/core.py).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

# The errors Rasa logged during the current turn (None outside a turn). Each turn runs in its
# own task, so the context variable is the turn's own.
_TURN_ERRORS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "hilo_turn_errors", default=None
)
# What Rasa 3.6 logs, at ERROR, when an action fails and it carries on without its events.
_ACTION_FAILURES = ("Encountered an exception while running action", "Failed to run custom action")


class _RasaErrorWatch(logging.Handler):
    """Notes, for the turn in progress, that an action failed (Rasa only logs it)."""

    def emit(self, record: logging.LogRecord) -> None:
        errors = _TURN_ERRORS.get()
        if errors is not None and str(record.msg).startswith(_ACTION_FAILURES):
            errors.append(record.name)


_WATCH = _RasaErrorWatch(level=logging.ERROR)


def _watch_rasa_errors() -> None:
    for name in ("rasa.core.processor", "rasa.core.actions.action"):
        rasa_logger = logging.getLogger(name)
        if _WATCH not in rasa_logger.handlers:
            rasa_logger.addHandler(_WATCH)


@contextmanager
def watch_turn() -> Iterator[list[str]]:
    """The failures Rasa logs while the `with` block runs (the names of its loggers)."""
    _watch_rasa_errors()
    errors: list[str] = []
    token = _TURN_ERRORS.set(errors)
    try:
        yield errors
    finally:
        _TURN_ERRORS.reset(token)
