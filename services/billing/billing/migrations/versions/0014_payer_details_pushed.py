"""Which edit of a customer's name and email its twin in Stripe has: the customer's `updated_at` pushed last (none
yet: every payer's details are pushed once by the next payment run).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stripe_customers", sa.Column("details_pushed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("stripe_customers", "details_pushed_at")
