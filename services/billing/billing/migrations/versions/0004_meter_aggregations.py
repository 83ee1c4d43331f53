"""Meter aggregations (max, unique_count, latest), property filters and group_by.

Daily totals gain a group (`group_key`, keyed by its SHA-256 so that no property value is too long for the
primary key) and, for `latest`, the time and id of the event whose value they hold. `unique_count` meters keep
each day's distinct values (by SHA-256 of the value's canonical text) in `meter_daily_distinct`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "billing"
TOTALS_KEY = ["meter_id", "customer_id", "day", "group_digest"]


def upgrade() -> None:
    op.add_column(
        "meters",
        sa.Column("filters", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        schema=SCHEMA,
    )
    op.add_column("meters", sa.Column("group_by", sa.String(100)), schema=SCHEMA)
    # Existing totals belong to meters without group_by: the group '' (what such meters use).
    op.add_column(
        "meter_daily_totals",
        sa.Column("group_key", sa.Text(), server_default="", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "meter_daily_totals",
        sa.Column("group_digest", postgresql.BYTEA(), server_default=sa.text("sha256(''::bytea)"), nullable=False),
        schema=SCHEMA,
    )
    op.alter_column("meter_daily_totals", "group_key", server_default=None, schema=SCHEMA)
    op.alter_column("meter_daily_totals", "group_digest", server_default=None, schema=SCHEMA)
    op.add_column("meter_daily_totals", sa.Column("latest_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("meter_daily_totals", sa.Column("latest_event_id", sa.String(255)), schema=SCHEMA)
    op.drop_constraint("meter_daily_totals_pkey", "meter_daily_totals", schema=SCHEMA)
    op.create_primary_key("meter_daily_totals_pkey", "meter_daily_totals", TOTALS_KEY, schema=SCHEMA)
    op.create_table(
        "meter_daily_distinct",
        sa.Column("meter_id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("group_digest", postgresql.BYTEA(), primary_key=True),
        sa.Column("value_digest", postgresql.BYTEA(), primary_key=True),
        sa.Column("group_key", sa.Text(), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    """Back to count and sum without filters or groups. Refused while a meter uses what 0003 cannot express: its
    totals would be wrong under the old code (delete such meters first); grouped totals are added up."""
    bind = op.get_bind()
    unexpressible = bind.execute(
        sa.text("SELECT key FROM meters WHERE aggregation NOT IN ('count', 'sum') OR filters <> '{}'::jsonb")
    ).scalars()
    keys = sorted(unexpressible)
    if keys:
        raise RuntimeError(f"cannot downgrade: meters {keys} use max, unique_count, latest or filters")
    op.drop_table("meter_daily_distinct", schema=SCHEMA)
    op.drop_constraint("meter_daily_totals_pkey", "meter_daily_totals", schema=SCHEMA)
    op.execute(
        """
        WITH grouped AS (DELETE FROM meter_daily_totals RETURNING meter_id, customer_id, day, value)
        INSERT INTO meter_daily_totals (meter_id, customer_id, day, group_key, group_digest, value)
        SELECT meter_id, customer_id, day, '', '', sum(value) FROM grouped GROUP BY 1, 2, 3
        """
    )
    for column in ("latest_event_id", "latest_at", "group_digest", "group_key"):
        op.drop_column("meter_daily_totals", column, schema=SCHEMA)
    op.create_primary_key("meter_daily_totals_pkey", "meter_daily_totals", TOTALS_KEY[:3], schema=SCHEMA)
    op.drop_column("meters", "group_by", schema=SCHEMA)
    op.drop_column("meters", "filters", schema=SCHEMA)
