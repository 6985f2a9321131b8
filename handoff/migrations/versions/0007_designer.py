"""The designer's loop: training candidates, and the `designer` role.

`handoff_nlu_candidates` keeps the customer messages the bot did not understand well (with
their text, for review), and desk users may now be designers (handoff/nlu_candidates.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WITH_DESIGNER = "role IN ('agent', 'designer', 'supervisor', 'admin')"
WITHOUT_DESIGNER = "role IN ('agent', 'supervisor', 'admin')"


def upgrade() -> None:
    """Adds handoff_nlu_candidates and allows the designer role."""
    op.create_table(
        "handoff_nlu_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("conversation_ref", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("predicted", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("why", sa.String(length=24), nullable=False),
        sa.Column("suggested", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "status IN ('new', 'accepted', 'rejected')",
            name=op.f("ck_handoff_nlu_candidates_status"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["handoff_agents.id"],
            name=op.f("fk_handoff_nlu_candidates_reviewed_by_handoff_agents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_nlu_candidates")),
    )
    with op.batch_alter_table("handoff_nlu_candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handoff_nlu_candidates_review", ["status", "normalized"], unique=False
        )
        batch_op.create_index(
            "ix_handoff_nlu_candidates_conversation", ["conversation_ref"], unique=False
        )
    _role_check(WITH_DESIGNER)


def downgrade() -> None:
    """Undoes upgrade() (designers become agents)."""
    op.execute("UPDATE handoff_agents SET role = 'agent' WHERE role = 'designer'")
    _role_check(WITHOUT_DESIGNER)
    with op.batch_alter_table("handoff_nlu_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_nlu_candidates_conversation")
        batch_op.drop_index("ix_handoff_nlu_candidates_review")
    op.drop_table("handoff_nlu_candidates")


def _role_check(condition: str) -> None:
    """Replaces the agents' role check: in place on PostgreSQL, by copying on SQLite.

    SQLite cannot alter a constraint, so the table is rebuilt from its definition here
    (`copy_from`), which also lets `alembic upgrade --sql` print it without a database.
    """
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_handoff_agents_role"), "handoff_agents", type_="check")
        op.create_check_constraint(op.f("ck_handoff_agents_role"), "handoff_agents", condition)
        return
    with op.batch_alter_table("handoff_agents", copy_from=_agents(condition), recreate="always"):
        pass


def _agents(role_check: str) -> sa.Table:
    """handoff_agents as revisions 0001 to 0006 left it, with `role_check`."""
    return sa.Table(
        "handoff_agents",
        sa.MetaData(),
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
        sa.CheckConstraint(role_check, name="ck_handoff_agents_role"),
        sa.CheckConstraint("capacity >= 0", name="ck_handoff_agents_capacity"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_agents"),
        sa.UniqueConstraint("username", name="uq_handoff_agents_username"),
    )
