"""Privacy audit: one row per erasure or export of a person's data (privacy/audit.py).

Who answered the request, when, why, a keyed pseudonym of the person and how many records of
each kind were erased or handed over; never the data itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds handoff_privacy_audit."""
    op.create_table(
        "handoff_privacy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.Text(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_privacy_audit")),
    )
    with op.batch_alter_table("handoff_privacy_audit", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_privacy_audit_at", ["at"], unique=False)


def downgrade() -> None:
    """Undoes upgrade()."""
    with op.batch_alter_table("handoff_privacy_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_privacy_audit_at")
    op.drop_table("handoff_privacy_audit")
