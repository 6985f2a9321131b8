"""Initial handoff schema: agents, sessions, cases, audit log, notes, canned responses.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 08:32:23.342363
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Initial handoff schema: agents, sessions, cases, audit log, notes, canned responses."""
    op.create_table(
        "handoff_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), server_default="5", nullable=False),
        sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "role IN ('agent', 'supervisor', 'admin')", name=op.f("ck_handoff_agents_role")
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_handoff_agents_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_handoff_agents_username")),
    )
    op.create_table(
        "handoff_canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_canned_responses")),
    )
    op.create_table(
        "handoff_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("customer_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("assigned_at", sa.Float(), nullable=True),
        sa.Column("first_reply_at", sa.Float(), nullable=True),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.Column("sla_due_at", sa.Float(), nullable=False),
        sa.Column("window_closes_at", sa.Float(), nullable=True),
        sa.Column("urgent_at", sa.Float(), nullable=False),
        sa.Column("last_customer_at", sa.Float(), nullable=True),
        sa.Column("last_ack_at", sa.Float(), nullable=True),
        sa.Column("collected", sa.Text(), server_default="{}", nullable=False),
        sa.Column("media", sa.Text(), server_default="[]", nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("corrections", sa.Text(), server_default="{}", nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "status IN ('bot', 'queued', 'assigned', 'resolved', 'closed')",
            name=op.f("ck_handoff_cases_status"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["handoff_agents.id"],
            name=op.f("fk_handoff_cases_assignee_id_handoff_agents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_cases")),
    )
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_cases_assignee", ["assignee_id", "status"], unique=False)
        batch_op.create_index("ix_handoff_cases_profile", ["profile_id"], unique=False)
        batch_op.create_index("ix_handoff_cases_queue", ["status", "urgent_at"], unique=False)
        batch_op.create_index("ix_handoff_cases_updated", ["updated_at"], unique=False)
        batch_op.create_index(
            "uq_handoff_cases_with_people",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text("status != 'bot'"),
            postgresql_where=sa.text("status != 'bot'"),
        )

    op.create_table(
        "handoff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["handoff_agents.id"],
            name=op.f("fk_handoff_sessions_agent_id_handoff_agents"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_handoff_sessions")),
    )
    op.create_table(
        "handoff_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["handoff_cases.id"],
            name=op.f("fk_handoff_case_events_case_id_handoff_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_case_events")),
    )
    with op.batch_alter_table("handoff_case_events", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_case_events_case", ["case_id", "id"], unique=False)

    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["handoff_agents.id"],
            name=op.f("fk_handoff_notes_agent_id_handoff_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["handoff_cases.id"], name=op.f("fk_handoff_notes_case_id_handoff_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_notes")),
    )
    with op.batch_alter_table("handoff_notes", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_notes_case", ["case_id", "id"], unique=False)


def downgrade() -> None:
    """Undoes upgrade()."""
    with op.batch_alter_table("handoff_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_notes_case")

    op.drop_table("handoff_notes")
    with op.batch_alter_table("handoff_case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_case_events_case")

    op.drop_table("handoff_case_events")
    op.drop_table("handoff_sessions")
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_handoff_cases_with_people",
            sqlite_where=sa.text("status != 'bot'"),
            postgresql_where=sa.text("status != 'bot'"),
        )
        batch_op.drop_index("ix_handoff_cases_updated")
        batch_op.drop_index("ix_handoff_cases_queue")
        batch_op.drop_index("ix_handoff_cases_profile")
        batch_op.drop_index("ix_handoff_cases_assignee")

    op.drop_table("handoff_cases")
    op.drop_table("handoff_canned_responses")
    op.drop_table("handoff_agents")
