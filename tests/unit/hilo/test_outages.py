"""Outages are told apart from errors through the chain of causes libraries wrap them in."""

from __future__ import annotations

import pytest
from rasa.core.lock_store import LockError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from hilo.outages import is_outage


def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 (implicit context, as Rasa's lock store does)
    except BaseException as error:
        return error


def test_database_and_redis_down_are_outages_even_wrapped() -> None:
    assert is_outage(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert is_outage(RedisConnectionError("Connection refused"))
    rasa_lock = wrapped(RedisConnectionError("refused"), LockError("Error while acquiring lock"))
    assert is_outage(rasa_lock)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        wrapped(KeyError("slot"), LockError("Error while acquiring lock")),
    ],
)
def test_bugs_and_bad_data_are_not(error: BaseException) -> None:
    assert not is_outage(error)
