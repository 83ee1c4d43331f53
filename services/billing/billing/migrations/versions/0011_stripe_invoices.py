"""Collections remember the Stripe invoice made for a Tally invoice (collection by Stripe invoice).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment_collections", sa.Column("stripe_invoice_id", sa.String(255)))
    op.add_column("payment_collections", sa.Column("stripe_invoice_status", sa.String(20)))


def downgrade() -> None:
    op.drop_column("payment_collections", "stripe_invoice_status")
    op.drop_column("payment_collections", "stripe_invoice_id")
