"""A version per family of projections, bumped by every statement that writes one of the family's tables (a
statement-level trigger, in the writer's own transaction: the consumers, the rebuilds and a TRUNCATE alike). The
api caches answers under the versions they were computed at: a bump makes the next request compute afresh.

Families: `billing` (everything projected from billing.events.v1 that answers read) and `usage` (usage.events.v1).
`billing_events_applied` is left out: it only deduplicates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAMILIES = {
    "billing": (
        "customers",
        "subscription_changes",
        "mrr_segments",
        "customer_mrr_months",
        "invoices",
        "invoice_lines",
        "revenue_months",
        "payments",
    ),
    "usage": ("usage_events", "usage_daily"),
}


def upgrade() -> None:
    op.create_table(
        "projection_versions",
        sa.Column("family", sa.String(20), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    rows = ", ".join(f"('{family}', 1)" for family in FAMILIES)
    op.execute(f"INSERT INTO projection_versions (family, version) VALUES {rows}")
    # search_path fixed at the migration's (the service's schema), whoever writes
    op.execute(
        """CREATE FUNCTION bump_projection_version() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
        AS $$ BEGIN
            UPDATE projection_versions SET version = version + 1 WHERE family = TG_ARGV[0];
            RETURN NULL;
        END $$"""
    )
    for family, tables in FAMILIES.items():
        for table in tables:
            op.execute(
                f"""CREATE TRIGGER {table}_bumps_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION bump_projection_version('{family}')"""
            )


def downgrade() -> None:
    for tables in FAMILIES.values():
        for table in tables:
            op.execute(f"DROP TRIGGER {table}_bumps_version ON {table}")
    op.execute("DROP FUNCTION bump_projection_version()")
    op.drop_table("projection_versions")
