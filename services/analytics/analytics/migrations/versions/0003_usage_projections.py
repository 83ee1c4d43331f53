"""Projections of usage.events.v1: each event once (customer, type, time; no properties) and daily counts per
customer and event type.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # customer_key is the product's external id, as usage events name customers; mapped to cus_ ids when read.
    op.create_table(
        "usage_events",
        sa.Column("customer_key", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    # funnels: the events of a few types over a time range; attribution: a customer's events before a conversion
    op.create_index("ix_usage_events_type_time", "usage_events", ["event_type", "occurred_at"])
    op.create_index("ix_usage_events_customer_time", "usage_events", ["customer_key", "occurred_at"])
    op.create_table(
        "usage_daily",
        sa.Column("customer_key", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
    )
    # adoption, correlations and RFM: every customer's days over a range
    op.create_index("ix_usage_daily_day", "usage_daily", ["day", "event_type", "customer_key"])


def downgrade() -> None:
    op.drop_table("usage_daily")
    op.drop_table("usage_events")
