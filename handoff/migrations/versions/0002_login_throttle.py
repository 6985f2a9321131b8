"""Login throttle: attempts per username and per client address, in the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds handoff_login_throttle (handoff/throttle.py)."""
    op.create_table(
        "handoff_login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_allowed_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_handoff_login_throttle")),
    )
    with op.batch_alter_table("handoff_login_throttle", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_login_throttle_updated", ["updated_at"], unique=False)


def downgrade() -> None:
    """Undoes upgrade()."""
    with op.batch_alter_table("handoff_login_throttle", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_login_throttle_updated")
    op.drop_table("handoff_login_throttle")
