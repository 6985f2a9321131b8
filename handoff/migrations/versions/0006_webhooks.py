"""The CRM feed: its outbox of webhook deliveries, its cursors and followed conversations.

`handoff_webhook_deliveries` holds one row per event to send to HILO_WEBHOOK_URL (unique per
source record, leased by one worker at a time); `handoff_webhook_cursors` where the feed has
read the case audit log and the channels' inbox up to; `handoff_webhook_conversations` the
conversations whose quiet period ends in a `conversation.summary`. See docs/webhooks.md.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds handoff_webhook_deliveries, handoff_webhook_cursors, handoff_webhook_conversations."""
    op.create_table(
        "handoff_webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("occurred_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.Float(), nullable=True),
        sa.Column("last_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed', 'erased')",
            name=op.f("ck_handoff_webhook_deliveries_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_webhook_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_handoff_webhook_deliveries_delivery_id")),
        sa.UniqueConstraint("key", name=op.f("uq_handoff_webhook_deliveries_key")),
    )
    with op.batch_alter_table("handoff_webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handoff_webhook_deliveries_due", ["state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_handoff_webhook_deliveries_conversation", ["conversation_id"], unique=False
        )
        batch_op.create_index("ix_handoff_webhook_deliveries_case", ["case_id"], unique=False)
        batch_op.create_index("ix_handoff_webhook_deliveries_profile", ["profile_id"], unique=False)
    op.create_table(
        "handoff_webhook_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("gaps", sa.Text(), server_default="{}", nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_handoff_webhook_cursors")),
    )
    op.create_table(
        "handoff_webhook_conversations",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("first_in_id", sa.BigInteger(), nullable=False),
        sa.Column("first_in_at", sa.Float(), nullable=False),
        sa.Column("last_in_at", sa.Float(), nullable=False),
        sa.Column("summarized_at", sa.Float(), nullable=True),
        sa.Column("contact_due_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_handoff_webhook_conversations")),
    )
    with op.batch_alter_table("handoff_webhook_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handoff_webhook_conversations_last_in", ["last_in_at"], unique=False
        )


def downgrade() -> None:
    """Undoes upgrade()."""
    with op.batch_alter_table("handoff_webhook_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_webhook_conversations_last_in")
    op.drop_table("handoff_webhook_conversations")
    op.drop_table("handoff_webhook_cursors")
    with op.batch_alter_table("handoff_webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_webhook_deliveries_profile")
        batch_op.drop_index("ix_handoff_webhook_deliveries_case")
        batch_op.drop_index("ix_handoff_webhook_deliveries_conversation")
        batch_op.drop_index("ix_handoff_webhook_deliveries_due")
    op.drop_table("handoff_webhook_deliveries")
