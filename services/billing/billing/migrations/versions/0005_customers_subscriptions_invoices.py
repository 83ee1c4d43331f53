"""Customers, subscriptions, invoices with their lines, pending items and per-year number counters.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created() -> sa.Column[sa.DateTime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("external_id", sa.String(255), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("tax_rate", sa.Numeric(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("plan_version_id", sa.String(40), sa.ForeignKey("plan_versions.id"), nullable=False),
        sa.Column("scheduled_plan_version_id", sa.String(40), sa.ForeignKey("plan_versions.id")),
        sa.Column("status", sa.String(20), nullable=False),
        _moment("started_at"),
        _moment("trial_end", nullable=True),
        _moment("billing_anchor"),
        _moment("current_period_start"),
        _moment("current_period_end"),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        _moment("canceled_at", nullable=True),
        _moment("ended_at", nullable=True),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_subscriptions_customer", "subscriptions", ["customer_id"])
    op.create_index(
        "ix_subscriptions_due", "subscriptions", ["current_period_end"], postgresql_where=sa.text("ended_at IS NULL")
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("number", sa.String(40), unique=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("subscription_id", sa.String(40), sa.ForeignKey("subscriptions.id")),
        _moment("boundary", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _moment("period_start"),
        _moment("period_end"),
        sa.Column("tax_rate", sa.Numeric(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits_applied_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        _created(),
        _moment("finalized_at", nullable=True),
        _moment("paid_at", nullable=True),
        _moment("voided_at", nullable=True),
        _moment("marked_uncollectible_at", nullable=True),
        sa.UniqueConstraint("subscription_id", "boundary"),
    )
    op.create_index("ix_invoices_customer", "invoices", ["customer_id", "id"])
    op.create_index("ix_invoices_drafts", "invoices", ["status", "created_at"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("meter", sa.String(100)),
        sa.Column("group_key", sa.String(255)),
        sa.Column("quantity", sa.Numeric()),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        _moment("period_start"),
        _moment("period_end"),
    )
    op.create_table(
        "pending_invoice_items",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subscription_id", sa.String(40), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        _moment("period_start"),
        _moment("period_end"),
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id")),
        _created(),
    )
    op.create_index("ix_pending_items_open", "pending_invoice_items", ["subscription_id", "invoice_id"])
    op.create_table(
        "invoice_number_counters",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "invoice_number_counters",
        "pending_invoice_items",
        "invoice_lines",
        "invoices",
        "subscriptions",
        "customers",
    ):
        op.drop_table(table)
