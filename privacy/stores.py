"""Where every store Hilo writes lives, and opening them to answer a privacy request.

`Stores` names them: four database URLs and two directories, read from the same environment
variables the processes use (`from_environment`), or given (tests, tools, another machine):

| Store | Variable | Default |
|---|---|---|
| channels | `CHANNELS_DATABASE_URL`, `DATABASE_URL` | var/channels.db |
| handoff | `HANDOFF_DATABASE_URL`, `DATABASE_URL` | var/handoff.db |
| commerce | `DATABASE_URL` | var/commerce.db |
| trackers | `TRACKER_DATABASE_URL`, `DATABASE_URL` | endpoints.yml (var/tracker.db) |
| media | `HILO_MEDIA_DIR` | var/media/ |
| mail | `HILO_VAR_DIR` | var/mail/ (development's saved emails) |

`opened` connects to each for the length of a request. A store that was never created holds
nothing about anyone: a SQLite file that does not exist is not created, and a database
without the store's tables is skipped (`Engines` has None for it), so a deployment without
the demo store, or whose Rasa never wrote a tracker, can still answer requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from hilo.database import reader


@dataclass(frozen=True)
class Stores:
    """Database URLs and directories of every store (None: this deployment has none)."""

    channels: str | None
    handoff: str | None
    commerce: str | None
    trackers: str | None
    media: Path | None
    mail: Path | None = None

    @classmethod
    def from_environment(cls) -> Stores:
        """The stores the processes use, from the same variables (see the module docstring)."""
        from actions.commerce import database as commerce
        from actions.mailer import mail_folder
        from connectors import storage as channels
        from connectors.media_store import LocalMediaStore
        from handoff import database as handoff
        from privacy import trackers

        return cls(
            channels=channels.database_url(),
            handoff=handoff.database_url(),
            commerce=commerce.database_url(),
            trackers=trackers.database_url(),
            media=LocalMediaStore().directory,
            mail=mail_folder(),
        )


@dataclass
class Engines:
    """Connections to the stores that exist (None for those that do not)."""

    channels: Engine | None
    handoff: Engine  # always: requests are audited there
    commerce: Engine | None
    trackers: Engine | None
    media: Path | None
    mail: Path | None


class HandoffMissing(RuntimeError):
    """The handoff database (where requests are audited) is not there or not migrated."""


# A table each store always has: without it, the store was never created there.
MARKERS = {
    "channels": "customer_profiles",
    "handoff": "handoff_privacy_audit",
    "commerce": "orders",
    "trackers": "events",
}


def _engine(store: str, url: str, immediate_writes: bool) -> Engine:
    if store == "trackers":
        # Rasa's tracker file: plain connections, so its journal mode stays what Rasa set.
        kwargs: dict[str, Any] = {"future": True}
        if make_url(url).get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": 30}
        return sa.create_engine(url, **kwargs)
    options = {"immediate_writes": True} if immediate_writes else {}
    if store == "handoff":
        from handoff.database import make_engine as handoff_engine

        return handoff_engine(url, **options)
    if store == "commerce":
        from actions.commerce.database import make_engine as commerce_engine

        return commerce_engine(url, **options)
    from hilo.database import make_engine

    return make_engine(url, **options)


def _exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return parsed.database in (None, "", ":memory:") or Path(parsed.database).is_file()


def open_store(store: str, url: str | None, *, immediate_writes: bool = False) -> Engine | None:
    """An engine on the store at `url`, or None when it was never created there."""
    if not url or not _exists(url):
        return None
    engine = _engine(store, url, immediate_writes)
    try:
        with reader(engine).connect() as connection:
            present = sa.inspect(connection).has_table(MARKERS[store])
    except Exception:
        engine.dispose()
        raise
    if not present:
        engine.dispose()
        return None
    return engine


@contextmanager
def opened(stores: Stores) -> Iterator[Engines]:
    """Every store, open for one request; the handoff's must exist (requests are audited there).

    Raises:
        HandoffMissing: without the handoff database at its newest migration (`hilo migrate`).
    """
    engines: dict[str, Engine | None] = {}
    try:
        for store in ("channels", "handoff", "commerce", "trackers"):
            engines[store] = open_store(store, getattr(stores, store))
        handoff = engines["handoff"]
        if handoff is None:
            raise HandoffMissing(
                "the handoff database is missing or not migrated: run `hilo migrate` first"
            )
        yield Engines(
            channels=engines["channels"],
            handoff=handoff,
            commerce=engines["commerce"],
            trackers=engines["trackers"],
            media=stores.media,
            mail=stores.mail,
        )
    finally:
        for engine in engines.values():
            if engine is not None:
                engine.dispose()
