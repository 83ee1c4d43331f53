"""Late usage: the plan that priced an invoice's usage, settled periods and rejected late events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("usage_plan_version_id", sa.String(40), sa.ForeignKey("plan_versions.id"), nullable=True)
    )
    op.create_index(
        "ix_invoices_unsettled",
        "invoices",
        ["period_end"],
        postgresql_where=sa.text("usage_plan_version_id IS NOT NULL"),
    )
    op.create_table(
        "late_usage_settlements",
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rejected_late_usage",
        sa.Column("usage_customer_id", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rejected_late_usage_customer", "rejected_late_usage", ["customer_id", "recorded_at"])


def downgrade() -> None:
    op.drop_table("rejected_late_usage")
    op.drop_table("late_usage_settlements")
    op.drop_index("ix_invoices_unsettled", "invoices")
    op.drop_column("invoices", "usage_plan_version_id")
