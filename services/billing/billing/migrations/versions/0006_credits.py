"""Credit grants, their consumption and the monetary balance.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created() -> sa.Column[sa.DateTime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _customer() -> sa.Column[sa.String]:
    return sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "credit_grants",
        sa.Column("id", sa.String(40), primary_key=True),
        _customer(),
        sa.Column("credit_type", sa.String(100), nullable=False),
        sa.Column("meter", sa.String(100), sa.ForeignKey("meters.key"), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("remaining", sa.Numeric(), nullable=False),
        sa.Column("unit_cost_minor", sa.Numeric(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _moment("purchased_at"),
        _moment("expires_at", nullable=True),
        sa.Column("description", sa.String(500)),
        _created(),
        sa.CheckConstraint("quantity > 0", name="credit_grants_quantity_positive"),
        sa.CheckConstraint("remaining >= 0 AND remaining <= quantity", name="credit_grants_remaining_within_quantity"),
        sa.CheckConstraint("unit_cost_minor >= 0", name="credit_grants_unit_cost_not_negative"),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > purchased_at", name="credit_grants_expiry_after_purchase"
        ),
    )
    op.create_index("ix_credit_grants_customer", "credit_grants", ["customer_id", "id"])
    op.create_index(
        "ix_credit_grants_spendable",
        "credit_grants",
        ["customer_id", "meter"],
        postgresql_where=sa.text("remaining > 0"),
    )
    op.create_table(
        "credit_consumptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("grant_id", sa.String(40), sa.ForeignKey("credit_grants.id"), nullable=False),
        _customer(),
        sa.Column("credit_type", sa.String(100), nullable=False),
        sa.Column("meter", sa.String(100), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.String(40)),
        _moment("consumed_at"),
        _created(),
        sa.CheckConstraint("quantity > 0", name="credit_consumptions_quantity_positive"),
    )
    op.create_index("ix_credit_consumptions_customer", "credit_consumptions", ["customer_id", "id"])
    op.create_index("ix_credit_consumptions_grant", "credit_consumptions", ["grant_id"])
    op.create_index("ix_credit_consumptions_invoice", "credit_consumptions", ["invoice_id"])
    op.create_table(
        "customer_balance_transactions",
        sa.Column("id", sa.String(40), primary_key=True),
        _customer(),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("invoice_id", sa.String(40)),
        sa.Column("description", sa.String(500)),
        _created(),
        sa.CheckConstraint("amount_minor <> 0", name="customer_balance_transactions_amount_not_zero"),
        sa.CheckConstraint("balance_minor >= 0", name="customer_balance_transactions_balance_not_negative"),
    )
    op.create_index("ix_customer_balance_transactions_customer", "customer_balance_transactions", ["customer_id", "id"])
    op.create_index("ix_customer_balance_transactions_invoice", "customer_balance_transactions", ["invoice_id"])


def downgrade() -> None:
    for table in ("customer_balance_transactions", "credit_consumptions", "credit_grants"):
        op.drop_table(table)
