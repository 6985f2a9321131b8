"""Rasa's stores from the environment: what replicas share, and endpoints.yml left alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.utils.endpoints import EndpointConfig

from connectors import rasa_stores


def endpoints() -> SimpleNamespace:
    tracker = EndpointConfig(type=rasa_stores.TRACKER_STORE_TYPE, dialect="sqlite", window=50)
    return SimpleNamespace(tracker_store=tracker, lock_store=None, event_broker=None)


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRACKER_DATABASE_URL", "DATABASE_URL", "REDIS_URL", "RABBITMQ_URL"):
        monkeypatch.delenv(name, raising=False)


def test_nothing_set_keeps_the_embedded_defaults() -> None:
    configured = endpoints()
    rasa_stores.apply(configured)
    assert configured.tracker_store.kwargs["dialect"] == "sqlite"
    assert configured.lock_store is None
    assert configured.event_broker is None


def test_database_url_moves_the_tracker_keeping_its_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", "postgres://hilo:s%40cret@db.internal:6432/hilo?options=-csearch_path%3Dx"
    )
    configured = endpoints()
    rasa_stores.apply(configured)
    tracker = configured.tracker_store
    assert tracker.type == rasa_stores.TRACKER_STORE_TYPE
    assert tracker.url == "db.internal"
    assert tracker.kwargs == {
        "dialect": "postgresql",
        "port": 6432,
        "db": "hilo",
        "window": 50,
        "username": "hilo",
        "password": "s@cret",
        "query": {"options": "-csearch_path=x"},
    }


def test_the_tracker_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://hilo@db/hilo")
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////srv/hilo/tracker.db")
    configured = endpoints()
    rasa_stores.apply(configured)
    assert configured.tracker_store.kwargs["db"] == "/srv/hilo/tracker.db"


def test_redis_and_rabbitmq_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@cache:6380/3")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://hilo:pw@mq/")
    configured = endpoints()
    rasa_stores.apply(configured)
    lock = configured.lock_store
    assert lock.type == rasa_stores.LOCK_STORE_TYPE
    assert (lock.url, lock.kwargs["port"], lock.kwargs["db"]) == ("cache", 6380, 3)
    assert lock.kwargs["use_ssl"] is True
    assert lock.kwargs["password"] == "pw"
    broker = configured.event_broker
    assert broker.type == "pika"
    assert (broker.url, broker.kwargs["port"], broker.kwargs["username"]) == ("mq", 5672, "hilo")
    assert broker.kwargs["queues"] == ["hilo_events"]


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("DATABASE_URL", "mysql://db/hilo"),
        ("REDIS_URL", "http://cache"),
        ("RABBITMQ_URL", "redis://mq"),
    ],
)
def test_a_wrong_scheme_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, url: str
) -> None:
    monkeypatch.setenv(variable, url)
    with pytest.raises(ValueError, match="not"):
        rasa_stores.apply(endpoints())
