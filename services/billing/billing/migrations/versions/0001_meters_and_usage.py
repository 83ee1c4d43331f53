"""Meters, usage events (deduplicated by customer and event id) and daily meter totals.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meters",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("aggregation", sa.String(20), nullable=False),
        sa.Column("property", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="billing",
    )
    op.create_table(
        "usage_events",
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("properties", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="billing",
    )
    op.create_index(
        "ix_usage_events_customer_type_time",
        "usage_events",
        ["customer_id", "event_type", "occurred_at"],
        schema="billing",
    )
    op.create_table(
        "meter_daily_totals",
        sa.Column("meter_id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("value", sa.Numeric(), nullable=False),
        schema="billing",
    )


def downgrade() -> None:
    op.drop_table("meter_daily_totals", schema="billing")
    op.drop_index("ix_usage_events_customer_type_time", "usage_events", schema="billing")
    op.drop_table("usage_events", schema="billing")
    op.drop_table("meters", schema="billing")
