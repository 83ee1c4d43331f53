"""Payments: Stripe customers, invoice collections and the webhook inbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_customers",
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("stripe_customer_id", sa.String(255), nullable=False, unique=True),
        sa.Column("payment_method_id", sa.String(255)),
    )
    op.create_table(
        "payment_collections",
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("first_failed_at", sa.DateTime(timezone=True)),
        sa.Column("payment_intent_id", sa.String(255)),
        sa.Column("last_error", sa.String(500)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index(
        "ix_payment_collections_due",
        "payment_collections",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'due'"),
    )
    op.create_index("ix_payment_collections_intent", "payment_collections", ["payment_intent_id"])
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(200)),
    )
    op.create_index(
        "ix_stripe_events_unhandled", "stripe_events", ["received_at"], postgresql_where=sa.text("handled_at IS NULL")
    )


def downgrade() -> None:
    for table in ("stripe_events", "payment_collections", "stripe_customers"):
        op.drop_table(table)
