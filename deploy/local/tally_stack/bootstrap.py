"""One database, and in it one schema and one login role per service, each role confined to its schema.

deploy/postgres/init.sql does the same in plain SQL for docker compose; keep the two in step."""

import contextlib
import re
from collections.abc import Mapping, Sequence

import asyncpg

from tally_stack.dsn import ASYNCPG_SCHEME, libpq_url, with_credentials, with_database

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,50}")


def role_name(schema: str) -> str:
    return f"tally_{schema}"


async def bootstrap_database(
    admin_url: str, database: str, schemas: Sequence[str], passwords: Mapping[str, str]
) -> dict[str, str]:
    """Create `database` if missing; for each schema, role `tally_<schema>` (LOGIN, its password from
    `passwords[schema]`, search_path = its schema) owning schema `<schema>`, and nothing else: PUBLIC
    loses its rights on the database and on schema public. Idempotent: a rerun converges to the same
    state (and resets the passwords). Returns {schema: postgresql+asyncpg:// URL of its role}."""
    for name in (database, *schemas):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lower-case SQL identifier")
    missing = [schema for schema in schemas if not passwords.get(schema)]
    if missing:
        raise ValueError(f"no password given for schema(s) {', '.join(missing)}")

    server = await asyncpg.connect(libpq_url(admin_url))
    try:
        await _ensure_database(server, database)
        for schema in schemas:
            await _ensure_role(server, role_name(schema), passwords[schema], schema)
    finally:
        await server.close()

    db = await asyncpg.connect(libpq_url(with_database(admin_url, database)))
    try:
        async with db.transaction():
            await db.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
            await db.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for schema in schemas:
                await _ensure_schema(db, database, schema, role_name(schema))
    finally:
        await db.close()

    target = with_database(admin_url, database)
    return {
        schema: with_credentials(target, role_name(schema), passwords[schema], scheme=ASYNCPG_SCHEME)
        for schema in schemas
    }


async def _ensure_database(conn: asyncpg.Connection, database: str) -> None:
    if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
        return
    with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # created concurrently
        await conn.execute(f'CREATE DATABASE "{database}"')


async def _ensure_role(conn: asyncpg.Connection, role: str, password: str, schema: str) -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        with contextlib.suppress(asyncpg.DuplicateObjectError):  # created concurrently
            await conn.execute(f'CREATE ROLE "{role}"')
    # format() quotes the password server-side; DDL takes no bind parameters.
    alter = await conn.fetchval(
        "SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', $1::text, $2::text)",
        role,
        password,
    )
    await conn.execute(alter)
    await conn.execute(f'ALTER ROLE "{role}" SET search_path = "{schema}"')


async def _ensure_schema(conn: asyncpg.Connection, database: str, schema: str, role: str) -> None:
    await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{role}"')
    await conn.execute(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"')
    await conn.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')


async def drop_database(admin_url: str, database: str) -> None:
    """Drops `database`, disconnecting whoever is still in it (a test's or a benchmark's own)."""
    connection = await asyncpg.connect(libpq_url(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()
