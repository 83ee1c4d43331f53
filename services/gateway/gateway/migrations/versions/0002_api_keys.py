"""API keys (hashes only) and the outbox that announces them on gateway.api-keys.v1.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY
from tally_runtime.migrations import create_outbox, drop_outbox

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", ARRAY(sa.Text()), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("hash_algorithm", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("hash", name="api_keys_hash_key"),
        schema="gateway",
    )
    create_outbox("gateway")


def downgrade() -> None:
    drop_outbox("gateway")
    op.drop_table("api_keys", schema="gateway")
