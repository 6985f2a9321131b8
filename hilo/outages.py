"""Whether a failure is a shared service being down (wait and retry) or a real error.

A turn that fails because PostgreSQL restarts or Redis cannot be reached must wait for them,
however long that takes: the message is safe in the inbox. Counting such a failure as one of
the bot's tries would mark acknowledged messages failed and hand customers to people after a
few seconds of outage. Libraries wrap these errors (Rasa's lock store turns a Redis
`ConnectionError` into its own `LockError`), so the whole chain of causes is looked at.
"""

from __future__ import annotations

from hilo.database import DATABASE_DOWN


def _service_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = DATABASE_DOWN
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError  # type: ignore[import-untyped]
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # Redis is optional outside a cluster
        return errors
    return (*errors, RedisConnectionError, RedisTimeout)


SERVICE_DOWN = _service_errors()


def is_outage(error: BaseException) -> bool:
    """True when `error`, or anything that caused it, is a database or Redis being down."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SERVICE_DOWN):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
