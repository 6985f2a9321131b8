"""Initial commerce schema: catalogue, orders, returns, lookup throttling, number counters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Constraint and index names are spelled out in full, as models.NAMING_CONVENTION produces
them, and wrapped in `op.f()` so that Alembic does not apply the convention a second time
("ck_orders_ck_orders_status"); later migrations refer to constraints by these names.
Column types and CHECK lists are frozen copies, not imports from the models: a migration
must keep meaning what it meant when it was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ORDER_STATUSES = (
    "'pending_payment', 'paid', 'preparing', 'shipped', 'delivered', 'cancelled', 'returned'"
)
_DELIVERY_OPTIONS = "'standard', 'express', 'pickup'"
_PAYMENT_METHODS = "'card', 'paypal', 'mercado_pago', 'spei', 'oxxo'"
_RETURN_STATUSES = "'requested', 'received', 'refunded', 'rejected'"


def upgrade() -> None:
    """Creates every commerce table, its indexes, and the number counters."""
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("aliases", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    op.create_table(
        "variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("size", sa.String(20), nullable=False),
        sa.Column("colour", sa.String(40), nullable=False),
        sa.Column("colour_en", sa.String(40), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variants")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_variants_product_id_products")
        ),
        sa.UniqueConstraint("sku", name=op.f("uq_variants_sku")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_variants_stock_not_negative")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_variants_price_not_negative")),
    )
    op.create_index(op.f("ix_variants_product_id"), "variants", ["product_id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("customer_name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("delivery_option", sa.String(20), nullable=False),
        sa.Column("payment_method", sa.String(20), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=True),
        sa.Column("tracking_number", sa.String(40), nullable=True),
        sa.Column("expected_delivery", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("shipping_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
        sa.CheckConstraint(f"status IN ({_ORDER_STATUSES})", name=op.f("ck_orders_status")),
        sa.CheckConstraint(
            f"delivery_option IN ({_DELIVERY_OPTIONS})", name=op.f("ck_orders_delivery_option")
        ),
        sa.CheckConstraint(
            f"payment_method IN ({_PAYMENT_METHODS})", name=op.f("ck_orders_payment_method")
        ),
        sa.CheckConstraint(
            "total_cents = subtotal_cents + shipping_cents", name=op.f("ck_orders_total")
        ),
    )
    op.create_index(op.f("ix_orders_phone"), "orders", ["phone"])
    op.create_index(op.f("ix_orders_email"), "orders", ["email"])
    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("product_name", sa.String(120), nullable=False),
        sa.Column("size", sa.String(20), nullable=False),
        sa.Column("colour", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_items_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_order_items_variant_id_variants")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
    )
    op.create_index(op.f("ix_order_items_order_id"), "order_items", ["order_id"])
    op.create_index(op.f("ix_order_items_variant_id"), "order_items", ["variant_id"])
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("number", name=op.f("uq_returns_number")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")
        ),
        sa.CheckConstraint(f"status IN ({_RETURN_STATUSES})", name=op.f("ck_returns_status")),
    )
    op.create_index(op.f("ix_returns_order_id"), "returns", ["order_id"])
    op.create_table(
        "lookup_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_attempts")),
    )
    op.create_index(op.f("ix_lookup_attempts_sender_at"), "lookup_attempts", ["sender", "at"])
    op.create_index(op.f("ix_lookup_attempts_at"), "lookup_attempts", ["at"])
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    # Order numbers start at 10001 and return numbers at R-00001: the counters hold the last
    # number handed out.
    op.bulk_insert(
        counters, [{"name": "order_number", "value": 10000}, {"name": "return_number", "value": 0}]
    )


def downgrade() -> None:
    """Drops every commerce table (and with them all commerce data), children first."""
    op.drop_table("counters")
    op.drop_index(op.f("ix_lookup_attempts_at"), table_name="lookup_attempts")
    op.drop_index(op.f("ix_lookup_attempts_sender_at"), table_name="lookup_attempts")
    op.drop_table("lookup_attempts")
    op.drop_index(op.f("ix_returns_order_id"), table_name="returns")
    op.drop_table("returns")
    op.drop_index(op.f("ix_order_items_variant_id"), table_name="order_items")
    op.drop_index(op.f("ix_order_items_order_id"), table_name="order_items")
    op.drop_table("order_items")
    op.drop_index(op.f("ix_orders_email"), table_name="orders")
    op.drop_index(op.f("ix_orders_phone"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_variants_product_id"), table_name="variants")
    op.drop_table("variants")
    op.drop_table("products")
