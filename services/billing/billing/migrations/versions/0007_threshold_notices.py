"""Threshold notices: each limit's 80% and 100% marks, once per subscription period.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "threshold_notices",
        sa.Column("subscription_id", sa.String(40), sa.ForeignKey("subscriptions.id"), primary_key=True),
        sa.Column("meter", sa.String(100), primary_key=True),
        sa.Column("period_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("percent", sa.Integer(), primary_key=True),
        sa.Column("reached_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("threshold_notices")
