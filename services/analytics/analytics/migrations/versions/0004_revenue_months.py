"""Invoiced amounts per currency, month (of the line's period start) and line kind, over invoices not void: kept
up to date as invoices arrive and change, so the MRR bridge reads usage revenue without scanning every line. And
the billing projections' ids compared byte by byte (collation "C"): they are opaque, and a rebuild inserts
hundreds of thousands of them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_IDS = {
    "billing_events_applied": ("event_id",),
    "subscription_changes": ("event_id", "subscription_id", "customer_id"),
    "mrr_segments": ("customer_id", "subscription_id"),
    "customer_mrr_months": ("customer_id",),
    "invoices": ("id", "customer_id"),
    "invoice_lines": ("invoice_id",),
    "payments": ("event_id", "customer_id"),
}


def upgrade() -> None:
    for table, columns in _IDS.items():
        for column in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(255) COLLATE "C"')
    op.create_table(
        "revenue_months",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
    )
    op.execute(
        """INSERT INTO revenue_months (currency, month, kind, amount_minor)
        SELECT i.currency, date_trunc('month', l.period_start AT TIME ZONE 'UTC')::date, l.kind, sum(l.amount_minor)
        FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.status <> 'void' GROUP BY 1, 2, 3"""
    )


def downgrade() -> None:
    op.drop_table("revenue_months")
    for table, columns in _IDS.items():
        for column in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(255) COLLATE "default"')
