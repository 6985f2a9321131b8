"""Rasa's own stores from Hilo's environment, so that replicas share them.

endpoints.yml names the embedded defaults (the tracker in var/tracker.db, Rasa's in-memory
lock store, no event broker), which is right for one process on a laptop. Replicas
(`make run-cluster`, docs/deployment.md) must share all three, and their addresses are
deployment facts, not files in the repository, so the Rasa server started by Hilo
(connectors/server.py) takes them from the environment:

- `TRACKER_DATABASE_URL`, else `DATABASE_URL`: the tracker store (Hilo's windowed SQL store,
  the same table layout on PostgreSQL as on SQLite);
- `REDIS_URL`: Rasa's Redis lock store, so that the desk's writes through Rasa's API (agent
  messages) and a turn on another replica take the same conversation lock. Rasa Open Source's
  Redis lock is not atomic (RasaHQ/rasa#9213): Hilo does not rely on it for one-turn-at-a-time,
  which the channels' leases guarantee (connectors/leases.py). Its locks live 5 s instead of
  Rasa's 60 (components/lock_store.py): a lock left by a replica killed mid-turn would
  otherwise hold the conversation for a minute;
- `RABBITMQ_URL`: Rasa's Pika event broker, where the conversations' events leave the process
  for other consumers (queue `HILO_EVENTS_QUEUE`, default `hilo_events`).

A variable that is not set leaves endpoints.yml's value alone.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from rasa.utils.endpoints import EndpointConfig

TRACKER_STORE_TYPE = "components.tracker_store.WindowedSQLTrackerStore"
DEFAULT_WINDOW = 200
LOCK_STORE_TYPE = "components.lock_store.ReplicaLockStore"


def _variable(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def tracker_store(url: str, window: int = DEFAULT_WINDOW) -> EndpointConfig:
    """The windowed SQL tracker store on `url` (postgresql://… or sqlite:///…)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    if scheme == "sqlite":
        return EndpointConfig(
            type=TRACKER_STORE_TYPE, dialect="sqlite", db=url.split("///", 1)[-1], window=window
        )
    if scheme != "postgresql":
        raise ValueError(f"the tracker store runs on PostgreSQL or SQLite, not {scheme}")
    values: dict[str, Any] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": "postgresql",
        "url": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "db": unquote(parts.path.lstrip("/")) or "postgres",
        "window": window,
    }
    if parts.username:
        values["username"] = unquote(parts.username)
    if parts.password:
        values["password"] = unquote(parts.password)
    query = dict(parse_qsl(parts.query))
    if query:
        values["query"] = query
    return EndpointConfig(**values)


def lock_store(url: str) -> EndpointConfig:
    """Rasa's Redis lock store on `url` (redis://[:password@]host[:port][/db])."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must be redis:// or rediss://, not {parts.scheme}://")
    values: dict[str, Any] = {
        "type": LOCK_STORE_TYPE,
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "use_ssl": parts.scheme == "rediss",
        "key_prefix": os.environ.get("HILO_REDIS_PREFIX", "hilo"),
    }
    if parts.username:
        values["username"] = unquote(parts.username)
    if parts.password:
        values["password"] = unquote(parts.password)
    return EndpointConfig(**values)


def event_broker(url: str) -> EndpointConfig:
    """Rasa's Pika event broker on `url` (amqp://user:password@host[:port])."""
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError(f"RABBITMQ_URL must be amqp:// or amqps://, not {parts.scheme}://")
    return EndpointConfig(
        type="pika",
        url=parts.hostname or "localhost",
        port=parts.port or 5672,
        username=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        queues=[os.environ.get("HILO_EVENTS_QUEUE", "hilo_events")],
        raise_on_failure=False,
    )


def apply(endpoints: Any) -> None:
    """Replaces endpoints.yml's stores by the ones the environment names (see the docstring)."""
    tracker_url = _variable("TRACKER_DATABASE_URL", "DATABASE_URL")
    if tracker_url:
        window = DEFAULT_WINDOW
        if endpoints.tracker_store is not None:
            window = int(endpoints.tracker_store.kwargs.get("window", DEFAULT_WINDOW))
        endpoints.tracker_store = tracker_store(tracker_url, window)
    redis_url = _variable("REDIS_URL")
    if redis_url:
        endpoints.lock_store = lock_store(redis_url)
    rabbitmq_url = _variable("RABBITMQ_URL")
    if rabbitmq_url:
        endpoints.event_broker = event_broker(rabbitmq_url)
