"""Rasa's conversation trackers: a person's events found, handed over and erased here.

Rasa's SQL tracker store (and Hilo's windowed one, components/tracker_store.py) keeps every
event of every conversation in one table, `events`: the sender id (the conversation id, often
a phone number), and as JSON in `data` what the customer wrote, how it was understood, the
slots the bot filled (their name, address, order), the metadata the channel passed on (their
display name, phone and files) and what the bot answered. The table's layout is Rasa's
(`rasa.core.tracker_store.SQLTrackerStore.SQLEvent`); it is declared again here, checked
against Rasa's own in tests/unit/privacy/test_trackers.py, so that the desk, which runs
without Rasa, can erase and export trackers too.

Deleting a conversation's rows is what Rasa would do to forget it: the next message starts
a new tracker with a new session, as for a first-time customer.

The database is the one the Rasa server started by Hilo uses (connectors/rasa_stores.py):
`TRACKER_DATABASE_URL`, else `DATABASE_URL`, else endpoints.yml's `tracker_store`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = REPO_ROOT / "endpoints.yml"
SQL_STORES = ("components.tracker_store.WindowedSQLTrackerStore", "SQL", "sql")
_CHUNK = 500

metadata = sa.MetaData()
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def database_url(endpoints: Path = ENDPOINTS) -> str | None:
    """The tracker store's database, as the Rasa server started by Hilo finds it.

    None when endpoints.yml names no SQL tracker store (Rasa's in-memory default keeps
    nothing once the server stops).
    """
    for name in ("TRACKER_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "").strip()
        if url:
            return (
                "postgresql://" + url[len("postgres://") :]
                if url.startswith("postgres://")
                else url
            )
    try:
        config = (yaml.safe_load(endpoints.read_text()) or {}).get("tracker_store") or {}
    except OSError:
        return None
    if config.get("type") not in SQL_STORES:
        return None
    dialect = str(config.get("dialect") or "sqlite")
    database = os.path.expandvars(str(config.get("db") or "rasa.db"))
    if dialect == "sqlite":
        path = Path(database)
        # `make run` starts Rasa in the repository, so a relative path is relative to it.
        return f"sqlite:///{path if path.is_absolute() else endpoints.parent / path}"
    user = config.get("username")
    password = config.get("password")
    credentials = ""
    if user:
        credentials = quote(str(user), safe="")
        if password:
            credentials += ":" + quote(os.path.expandvars(str(password)), safe="")
        credentials += "@"
    host = config.get("url") or "localhost"
    port = config.get("port") or 5432
    return f"postgresql://{credentials}{host}:{port}/{database}"


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def sender_ids(
    engine: Engine, *, phones: Iterable[str] = (), conversation_ids: Iterable[str] = ()
) -> set[str]:
    """The trackers of these conversations, and those whose id ends in one of the phones."""
    found: set[str] = set()
    suffixes = [
        events.c.sender_id.like(f"%:{phone}")
        for phone in phones
        if phone and set(phone) <= set("+0123456789")
    ]
    with engine.connect() as connection:
        for chunk in _chunks(conversation_ids):
            found.update(
                connection.execute(
                    sa.select(events.c.sender_id).where(events.c.sender_id.in_(chunk)).distinct()
                ).scalars()
            )
        if suffixes:
            found.update(
                connection.execute(
                    sa.select(events.c.sender_id).where(sa.or_(*suffixes)).distinct()
                ).scalars()
            )
    return found


def export(engine: Engine, conversation_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Each tracker's slots (their latest values) and the customer's messages as Rasa saw them.

    A message: when, on which channel, the text, the intent and entities understood, and the
    metadata the channel passed on (the display name, the phone, the files).
    """
    trackers = []
    with engine.connect() as connection:
        for chunk in _chunks(conversation_ids):
            for sender in chunk:
                slots: dict[str, Any] = {}
                messages = []
                rows = connection.execute(
                    sa.select(events.c.type_name, events.c.data)
                    .where(events.c.sender_id == sender)
                    .order_by(events.c.id)
                )
                for row in rows:
                    data = _json(row.data)
                    if row.type_name == "slot" and isinstance(data.get("name"), str):
                        slots[data["name"]] = data.get("value")
                    elif row.type_name == "user":
                        parse = data.get("parse_data") or {}
                        messages.append(
                            {
                                "at": data.get("timestamp"),
                                "channel": data.get("input_channel"),
                                "text": data.get("text"),
                                "intent": (parse.get("intent") or {}).get("name"),
                                "entities": [
                                    {"entity": item.get("entity"), "value": item.get("value")}
                                    for item in parse.get("entities") or ()
                                    if isinstance(item, dict)
                                ],
                                "metadata": data.get("metadata") or {},
                            }
                        )
                if slots or messages:
                    trackers.append(
                        {
                            "conversation_id": sender,
                            "slots": {k: v for k, v in sorted(slots.items()) if v is not None},
                            "messages": messages,
                        }
                    )
    return trackers


def erase(engine: Engine, conversation_ids: Iterable[str]) -> dict[str, int]:
    """Deletes every event of these conversations; how many went. Idempotent."""
    removed = 0
    with engine.begin() as connection:
        for chunk in _chunks(conversation_ids):
            removed += connection.execute(
                events.delete().where(events.c.sender_id.in_(chunk))
            ).rowcount
    return {"events": removed}


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
