"""Optional contact: an order needs a phone or an email, not necessarily both.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15

The order form asks for "a contact phone or email", so `orders.phone` and `orders.email`
become nullable, and CHECK `ck_orders_contact` keeps at least one of them.

Downgrade fills missing contacts with an empty string before restoring NOT NULL, rather than
refusing: a rollback must stay possible once email-only orders exist, and to the 0001 code an
empty contact is harmless (normalize_phone/normalize_email reject "", so it never matches a
lookup or an ownership check). Upgrading again turns those empty strings back into NULL
(where the other contact is present, as the CHECK requires), so down-and-up loses nothing.

SQLite cannot ALTER a column's nullability or add a CHECK, so batch mode recreates the table
there (copy, drop, rename; the other constraints and indexes are reflected and kept);
PostgreSQL gets plain ALTER TABLE statements. The table copy needs reflection, so offline
SQL (`--sql`) for this revision works for PostgreSQL only. `database.migrate` runs SQLite
migrations with foreign keys off (SQLite's documented procedure for rebuilding a table that
others reference) and checks them before committing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies (see 0001): this migration must keep meaning what it meant.
_CONTACT_CHECK = "phone IS NOT NULL OR email IS NOT NULL"
_orders = sa.table("orders", sa.column("phone", sa.String), sa.column("email", sa.String))


def upgrade() -> None:
    """Makes phone and email nullable and requires at least one of them."""
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("phone", existing_type=sa.String(20), nullable=True)
        batch.alter_column("email", existing_type=sa.String(254), nullable=True)
        batch.create_check_constraint(op.f("ck_orders_contact"), _CONTACT_CHECK)
    # Empty strings are how downgrade() stored "no phone" / "no email" under 0001.
    phone, email = _orders.c.phone, _orders.c.email
    op.execute(_orders.update().where(phone == "", email != "").values(phone=None))
    op.execute(
        _orders.update().where(email == "", phone.is_not(None), phone != "").values(email=None)
    )


def downgrade() -> None:
    """Restores NOT NULL phone and email, storing a missing contact as an empty string."""
    op.execute(_orders.update().where(_orders.c.phone.is_(None)).values(phone=""))
    op.execute(_orders.update().where(_orders.c.email.is_(None)).values(email=""))
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_contact"), type_="check")
        batch.alter_column("phone", existing_type=sa.String(20), nullable=False)
        batch.alter_column("email", existing_type=sa.String(254), nullable=False)
