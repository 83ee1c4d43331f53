"""The body of every service's alembic env.py: migrations confined to one schema, one migrator at a time."""

import asyncio

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def _migrate(connection: Connection, schema: str, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=False,
        compare_type=True,
    )
    with context.begin_transaction():
        # Processes of one service start together; the lock makes the others wait, then find nothing to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:schema))"), {"schema": schema})
        context.run_migrations()


async def _run_online(url: str, schema: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, schema, metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations(schema: str, metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set: migrate through tally_runtime.db.migrate")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table_schema=schema, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, schema, metadata))


def create_outbox(schema: str) -> None:
    """The table tally_runtime.outbox.outbox_table describes, in a migration of the service's own."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=schema,
    )


def drop_outbox(schema: str) -> None:
    op.drop_table("outbox", schema=schema)
