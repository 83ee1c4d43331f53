"""Projections of billing.events.v1: customers, the subscription change log, the MRR segments and monthly MRR
movements derived from it, invoices with their lines, payments, and the ids of the events already applied.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str, primary_key: bool = False) -> sa.Column[sa.String]:
    return sa.Column(name, sa.String(255), primary_key=primary_key, nullable=False)


def _moment(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _minor(name: str) -> sa.Column[sa.BigInteger]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _currency() -> sa.Column[sa.String]:
    return sa.Column("currency", sa.String(3), nullable=False)


def upgrade() -> None:
    op.create_table(
        "billing_events_applied",
        _id("event_id", primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "customers",
        _id("id", primary_key=True),
        sa.Column("external_id", sa.String(255)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        _currency(),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
    )
    op.create_index("ix_customers_external_id", "customers", ["external_id"])
    _subscriptions()
    _invoices_and_payments()


def _subscriptions() -> None:
    op.create_table(
        "subscription_changes",
        _id("event_id", primary_key=True),
        _id("subscription_id"),
        _id("customer_id"),
        _currency(),
        sa.Column("change", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("previous_status", sa.String(20)),
        sa.Column("plan_key", sa.String(100), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(10), nullable=False),
        _minor("base_price_minor"),
        _minor("mrr_minor"),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        _moment("started_at"),
        _moment("trial_end", nullable=True),
        _moment("current_period_end"),
        _moment("effective_at"),
        _moment("event_time"),
    )
    op.create_index("ix_subscription_changes_customer", "subscription_changes", ["customer_id"])
    op.create_index("ix_subscription_changes_effective", "subscription_changes", ["currency", "effective_at"])
    op.create_table(
        "mrr_segments",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _id("customer_id"),
        _id("subscription_id"),
        _currency(),
        sa.Column("plan_key", sa.String(100), nullable=False),
        sa.Column("interval", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _moment("valid_from"),
        _moment("valid_to", nullable=True),
        _minor("mrr_minor"),
    )
    op.create_index("ix_mrr_segments_customer", "mrr_segments", ["customer_id"])
    op.create_index("ix_mrr_segments_currency_from", "mrr_segments", ["currency", "valid_from"])
    op.create_index("ix_mrr_segments_subscription", "mrr_segments", ["subscription_id", "valid_from"])
    op.create_table(
        "customer_mrr_months",
        _id("customer_id", primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        _currency(),
        _minor("opening_mrr_minor"),
        _minor("closing_mrr_minor"),
        sa.Column("movement", sa.String(20), nullable=False),
    )
    op.create_index("ix_customer_mrr_months_currency_month", "customer_mrr_months", ["currency", "month"])


def _invoices_and_payments() -> None:
    op.create_table(
        "invoices",
        _id("id", primary_key=True),
        sa.Column("number", sa.String(40), nullable=False),
        _id("customer_id"),
        sa.Column("subscription_id", sa.String(255)),
        sa.Column("status", sa.String(20), nullable=False),
        _currency(),
        _moment("period_start"),
        _moment("period_end"),
        _minor("subtotal_minor"),
        _minor("credits_applied_minor"),
        _minor("tax_minor"),
        _minor("total_minor"),
        _moment("finalized_at"),
        _moment("changed_at"),
    )
    op.create_index("ix_invoices_customer", "invoices", ["customer_id"])
    op.create_table(
        "invoice_lines",
        _id("invoice_id", primary_key=True),
        sa.Column("line_no", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("meter", sa.String(255)),
        sa.Column("quantity", sa.Numeric()),
        _minor("amount_minor"),
        _moment("period_start"),
        _moment("period_end"),
    )
    op.create_index("ix_invoice_lines_kind_start", "invoice_lines", ["kind", "period_start"])
    op.create_table(
        "payments",
        _id("event_id", primary_key=True),
        sa.Column("outcome", sa.String(30), nullable=False),
        _id("invoice_id"),
        _id("customer_id"),
        sa.Column("subscription_id", sa.String(255)),
        _minor("amount_minor"),
        _currency(),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500)),
        _moment("occurred_at"),
    )
    op.create_index("ix_payments_customer", "payments", ["customer_id"])


def downgrade() -> None:
    for table in (
        "payments",
        "invoice_lines",
        "invoices",
        "customer_mrr_months",
        "mrr_segments",
        "subscription_changes",
        "customers",
        "billing_events_applied",
    ):
        op.drop_table(table)
