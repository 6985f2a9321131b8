"""The channels schema: inbox, outbound messages, customer profiles and conversations.

Before this migration the channels' tables were made by SQLAlchemy's `create_all` and a
hand-written ALTER for each column added later. A database from that time is adopted here:
a table that exists is kept, with any column it lacks added (every column added that way
was nullable), and the revision is recorded, so that every later change is a migration.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:51:46
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _inbound() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.Float(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_inbound")),
        sa.UniqueConstraint("channel", "provider_id", name="uq_channel_inbound_delivery"),
    ]


def _outbound() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_outbound")),
        sa.UniqueConstraint("reply_to", "seq", name="uq_channel_outbound_reply"),
    ]


def _profiles() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_profiles")),
        sa.UniqueConstraint("phone", name=op.f("uq_customer_profiles_phone")),
    ]


def _conversations() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("first_seen_at", sa.Float(), nullable=False),
        sa.Column("last_inbound_at", sa.Float(), nullable=True),
        sa.Column("offered_buttons", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["customer_profiles.id"],
            name=op.f("fk_channel_conversations_profile_id_customer_profiles"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_channel_conversations")),
    ]


# In dependency order (conversations reference profiles), with each table's indexes.
TABLES: list[tuple[str, Callable[[], list[sa.schema.SchemaItem]], dict[str, list[str]]]] = [
    (
        "channel_inbound",
        _inbound,
        {
            "ix_channel_inbound_conversation": ["conversation_id", "id"],
            "ix_channel_inbound_pending": ["status", "conversation_id", "sent_at"],
        },
    ),
    (
        "channel_outbound",
        _outbound,
        {
            "ix_channel_outbound_conversation": ["conversation_id", "id"],
            "ix_channel_outbound_provider": ["channel", "provider_id"],
        },
    ),
    ("customer_profiles", _profiles, {}),
    ("channel_conversations", _conversations, {"ix_channel_conversations_profile": ["profile_id"]}),
]


def _adopt(table: str, items: list[sa.schema.SchemaItem]) -> bool:
    """True if `table` exists already (made by create_all); its missing columns are added."""
    if op.get_context().as_sql:  # offline (--sql): the SQL for a new database
        return False
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(table):
        return False
    existing = {column["name"] for column in inspector.get_columns(table)}
    missing = [item for item in items if isinstance(item, sa.Column) and item.name not in existing]
    if missing:
        with op.batch_alter_table(table) as batch_op:
            for column in missing:
                column.nullable = True  # rows exist: a new column starts empty
                batch_op.add_column(column)
    return True


def upgrade() -> None:
    """Creates the four tables, or adopts the ones create_all made."""
    for table, items, indexes in TABLES:
        if _adopt(table, items()):
            continue
        op.create_table(table, *items())
        with op.batch_alter_table(table) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    """Drops the four tables (and every message in them)."""
    for table, _items, _indexes in reversed(TABLES):
        op.drop_table(table)
