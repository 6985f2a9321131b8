"""Verification failures: wrong ownership proofs, counted per order and per source.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

A proof of ownership that fails is recorded with the order number it was for and the source
that gave it (a keyed pseudonym of the channel identity, never the id itself). Counting per
order across every sender is what stops guessing an order's phone digits from many
conversation ids; counting per source stops one sender trying many orders.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates verification_failures with its two lookup indexes."""
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(20), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    op.create_index(
        op.f("ix_verification_failures_order_number_at"),
        "verification_failures",
        ["order_number", "at"],
    )
    op.create_index(
        op.f("ix_verification_failures_source_at"), "verification_failures", ["source", "at"]
    )
    op.create_index(op.f("ix_verification_failures_at"), "verification_failures", ["at"])


def downgrade() -> None:
    """Drops verification_failures."""
    op.drop_index(op.f("ix_verification_failures_at"), table_name="verification_failures")
    op.drop_index(op.f("ix_verification_failures_source_at"), table_name="verification_failures")
    op.drop_index(
        op.f("ix_verification_failures_order_number_at"), table_name="verification_failures"
    )
    op.drop_table("verification_failures")
