"""Facts and contacts: the record reports are derived from, and the case's CSAT.

`handoff_facts` holds one row per customer or bot message and order outcome (channel,
language, intent, confidence, fallback; no text, the conversation as a keyed pseudonym);
`handoff_contacts` rolls them up into a conversation's episodes. Cases gain the customer's
satisfaction answer (asked once). See docs/analytics.md.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds handoff_facts, handoff_contacts and the cases' CSAT columns."""
    op.create_table(
        "handoff_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("conversation_ref", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fallback", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("detail", sa.Text(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_facts")),
    )
    with op.batch_alter_table("handoff_facts", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_facts_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index(
            "ix_handoff_facts_conversation", ["conversation_ref", "at"], unique=False
        )
    op.create_table(
        "handoff_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_ref", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_in_at", sa.Float(), nullable=False),
        sa.Column("messages_in", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fallbacks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("next_started_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_contacts")),
    )
    with op.batch_alter_table("handoff_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_contacts_started", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_handoff_contacts_conversation", ["conversation_ref", "started_at"], unique=False
        )
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("csat_asked_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("csat_score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("csat_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("csat_at", sa.Float(), nullable=True))
        batch_op.create_index("ix_handoff_cases_created", ["created_at"], unique=False)


def downgrade() -> None:
    """Undoes upgrade()."""
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_cases_created")
        batch_op.drop_column("csat_at")
        batch_op.drop_column("csat_comment")
        batch_op.drop_column("csat_score")
        batch_op.drop_column("csat_asked_at")
    with op.batch_alter_table("handoff_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_contacts_conversation")
        batch_op.drop_index("ix_handoff_contacts_started")
    op.drop_table("handoff_contacts")
    with op.batch_alter_table("handoff_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_facts_conversation")
        batch_op.drop_index("ix_handoff_facts_kind_at")
    op.drop_table("handoff_facts")
