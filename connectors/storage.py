"""The channels database: inbox, outbound messages, conversations and customer profiles.

One SQLAlchemy 1.4 engine (2.0-style API) per process, from `CHANNELS_DATABASE_URL`
(default: `var/channels.db`, SQLite). PostgreSQL works unchanged
(`postgresql://user@host/db`). The tables are created on first use; they belong to the
connectors alone (the tracker store and the commerce store have their own databases).

SQLite is opened in WAL mode with `synchronous=FULL`: an inbound message is on disk before the
webhook acknowledges it, and readers (the desk, the sandbox page) never block the writer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{REPO_ROOT / 'var' / 'channels.db'}"

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Every customer message, stored before it is acknowledged. (channel, provider_id) is unique:
# a provider's retry of the same delivery is acknowledged and not stored again.
inbound = sa.Table(
    "channel_inbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("provider_id", sa.String(255), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # InboundMessage.to_json()
    # pending -> processing -> done | failed
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("processed_at", sa.Float),
    sa.Column("error", sa.String(255)),
    sa.UniqueConstraint("channel", "provider_id", name="uq_channel_inbound_delivery"),
    sa.Index("ix_channel_inbound_pending", "status", "conversation_id", "sent_at"),
    sa.Index("ix_channel_inbound_conversation", "conversation_id", "id"),
)

# Every message sent (or refused) on a channel, with the provider's id and the latest status.
# (reply_to, seq) is unique: the n-th reply to an inbound message is sent once, even when the
# message is processed again after a crash.
outbound = sa.Table(
    "channel_outbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("reply_to", sa.Integer),  # channel_inbound.id being answered; NULL otherwise
    sa.Column("seq", sa.Integer),
    sa.Column("source", sa.String(16), nullable=False),  # bot | agent | system
    sa.Column("kind", sa.String(16), nullable=False),  # text | buttons | image | …
    sa.Column("body", sa.Text, nullable=False),  # OutboundPart.to_dict() as JSON
    sa.Column("provider_id", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_message", sa.String(500)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("reply_to", "seq", name="uq_channel_outbound_reply"),
    sa.Index("ix_channel_outbound_provider", "channel", "provider_id"),
    sa.Index("ix_channel_outbound_conversation", "conversation_id", "id"),
)

# A person, linked across channels by phone number.
profiles = sa.Table(
    "customer_profiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("phone", sa.String(32), unique=True),
    sa.Column("display_name", sa.String(255)),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One conversation per channel identity: its profile, the messaging window (time of the
# customer's last message) and the buttons last offered (numbered replies map back to them).
conversations = sa.Table(
    "channel_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("profile_id", sa.Integer, sa.ForeignKey("customer_profiles.id"), nullable=False),
    sa.Column("display_name", sa.String(255)),
    sa.Column("phone", sa.String(32)),
    sa.Column("first_seen_at", sa.Float, nullable=False),
    sa.Column("last_inbound_at", sa.Float),
    sa.Column("offered_buttons", sa.Text),  # JSON list of [title, payload]
    sa.Index("ix_channel_conversations_profile", "profile_id"),
)


def database_url() -> str:
    """`CHANNELS_DATABASE_URL`, or the SQLite file under var/."""
    return os.environ.get("CHANNELS_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`), with the tables created."""
    url = url or database_url()
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The webhook (server loop) and the bot (its own thread) share the engine.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL for concurrent readers; FULL sync so an acknowledged message survives a crash."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
