"""One-time codes: six digits sent to an order's email before cancelling, changing, returning.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Stored as an HMAC bound to the order and the source that asked (actions/commerce/codes.py),
never as the code itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates one_time_codes with its lookup and expiry indexes."""
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(20), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_codes")),
    )
    op.create_index(
        op.f("ix_one_time_codes_order_number_source"),
        "one_time_codes",
        ["order_number", "source"],
    )
    op.create_index(op.f("ix_one_time_codes_expires_at"), "one_time_codes", ["expires_at"])


def downgrade() -> None:
    """Drops one_time_codes."""
    op.drop_index(op.f("ix_one_time_codes_expires_at"), table_name="one_time_codes")
    op.drop_index(op.f("ix_one_time_codes_order_number_source"), table_name="one_time_codes")
    op.drop_table("one_time_codes")
