"""People and what they do: users, their sessions and tokens (hashes only), failed logins, the audit log; and a
rate limit per API key.

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

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.UniqueConstraint("email", name="users_email_key"),
        sa.CheckConstraint("role IN ('admin', 'analyst', 'viewer')", name="users_role_check"),
        schema="gateway",
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("gateway.users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema="gateway",
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], schema="gateway")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema="gateway",
    )
    op.create_index("ix_login_failures_email", "login_failures", ["email"], schema="gateway")
    op.create_index("ix_login_failures_client_ip", "login_failures", ["client_ip"], schema="gateway")
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"], schema="gateway")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("actor_kind", sa.String(10), nullable=True),
        sa.Column("actor_id", sa.String(40), nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema="gateway",
    )
    op.add_column("api_keys", sa.Column("rate_limit_per_s", sa.Float, nullable=True), schema="gateway")


def downgrade() -> None:
    op.drop_column("api_keys", "rate_limit_per_s", schema="gateway")
    op.drop_table("audit_log", schema="gateway")
    op.drop_table("login_failures", schema="gateway")
    op.drop_table("sessions", schema="gateway")
    op.drop_table("users", schema="gateway")
