"""The outbox: events billing announces, written in the transaction of the change they announce.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from tally_runtime.migrations import create_outbox, drop_outbox

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox("billing")


def downgrade() -> None:
    drop_outbox("billing")
