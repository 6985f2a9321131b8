"""Who owns each conversation, as its own record: handoff_ownership, filled from the cases.

Until now ownership was read from the latest case's status (`bot`: the bot; `resolved`:
people, the hand-back pending; anything else: people). Each conversation gets one row that
says so, and the unique index on cases now counts only unfinished cases (queued, assigned,
closed), so a handoff while a hand-back is pending opens a new case instead of failing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WITH_PEOPLE = "status != 'bot'"
UNFINISHED = "status IN ('queued', 'assigned', 'closed')"

# The latest case of each conversation says who owns it (only that one can be unfinished).
# Plain SQL, the same on SQLite and PostgreSQL, and printed as it is by `--sql`.
BACKFILL = """
INSERT INTO handoff_ownership (conversation_id, owner, case_id, pending, changed_at, applied_at)
SELECT conversation_id,
       CASE WHEN status = 'bot' THEN 'bot' ELSE 'people' END,
       id,
       CASE WHEN status = 'resolved' THEN 'to_bot' ELSE NULL END,
       CASE WHEN status IN ('bot', 'resolved') THEN updated_at ELSE created_at END,
       CASE WHEN status = 'resolved' THEN NULL
            WHEN status = 'bot' THEN updated_at
            ELSE created_at END
FROM handoff_cases
WHERE id IN (SELECT max(id) FROM handoff_cases GROUP BY conversation_id)
"""

# Before this revision a resolved case was always pending: one whose hand-back a later
# handoff cancelled becomes `bot` (finished), so the old unique index holds again.
FINISH_CANCELLED = """
UPDATE handoff_cases SET status = 'bot'
WHERE status = 'resolved'
  AND id NOT IN (SELECT case_id FROM handoff_ownership WHERE pending = 'to_bot')
"""


def upgrade() -> None:
    """Adds handoff_ownership (handoff/ownership_store.py), filled from the latest cases."""
    op.create_table(
        "handoff_ownership",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("pending", sa.String(length=8), nullable=True),
        sa.Column("changed_at", sa.Float(), nullable=False),
        sa.Column("applied_at", sa.Float(), nullable=True),
        sa.CheckConstraint("owner IN ('bot', 'people')", name=op.f("ck_handoff_ownership_owner")),
        sa.CheckConstraint(
            "pending IS NULL OR (pending = 'to_bot' AND owner = 'people')",
            name=op.f("ck_handoff_ownership_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["handoff_cases.id"],
            name=op.f("fk_handoff_ownership_case_id_handoff_cases"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_handoff_ownership")),
    )
    with op.batch_alter_table("handoff_ownership", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_ownership_pending", ["pending"], unique=False)
    op.execute(BACKFILL)
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_handoff_cases_with_people",
            sqlite_where=sa.text(WITH_PEOPLE),
            postgresql_where=sa.text(WITH_PEOPLE),
        )
        batch_op.create_index(
            "uq_handoff_cases_unfinished",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text(UNFINISHED),
            postgresql_where=sa.text(UNFINISHED),
        )


def downgrade() -> None:
    """Undoes upgrade(): ownership is read from the cases' status again."""
    op.execute(FINISH_CANCELLED)
    with op.batch_alter_table("handoff_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_handoff_cases_unfinished",
            sqlite_where=sa.text(UNFINISHED),
            postgresql_where=sa.text(UNFINISHED),
        )
        batch_op.create_index(
            "uq_handoff_cases_with_people",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text(WITH_PEOPLE),
            postgresql_where=sa.text(WITH_PEOPLE),
        )
    with op.batch_alter_table("handoff_ownership", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_ownership_pending")
    op.drop_table("handoff_ownership")
