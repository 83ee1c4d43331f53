"""bootstrap_database on the real server, in a throwaway database with throwaway roles."""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from tally_stack.bootstrap import bootstrap_database, role_name
from tally_stack.dsn import libpq_url, with_database


@dataclass(frozen=True)
class Scratch:
    admin_url: str
    database: str
    schemas: list[str]
    passwords: dict[str, str]


@pytest.fixture
async def scratch(admin_url: str) -> AsyncIterator[Scratch]:
    tag = secrets.token_hex(4)
    schemas = [f"t{tag}_a", f"t{tag}_b"]
    yield Scratch(admin_url, f"tally_test_{tag}", schemas, {s: secrets.token_urlsafe(16) for s in schemas})
    conn = await asyncpg.connect(libpq_url(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "tally_test_{tag}" WITH (FORCE)')
        for schema in schemas:
            await conn.execute(f'DROP ROLE IF EXISTS "{role_name(schema)}"')
    finally:
        await conn.close()


async def _run(scratch: Scratch) -> dict[str, str]:
    return await bootstrap_database(scratch.admin_url, scratch.database, scratch.schemas, scratch.passwords)


async def test_returns_a_url_per_schema_for_its_own_role(scratch: Scratch) -> None:
    urls = await _run(scratch)
    assert set(urls) == set(scratch.schemas)
    for schema, url in urls.items():
        assert url.startswith(f"postgresql+asyncpg://{role_name(schema)}:{scratch.passwords[schema]}@")
        assert url.endswith(f"/{scratch.database}")


async def test_roles_and_schemas_exist(scratch: Scratch) -> None:
    await _run(scratch)
    conn = await asyncpg.connect(libpq_url(with_database(scratch.admin_url, scratch.database)))
    try:
        for schema in scratch.schemas:
            role = await conn.fetchrow(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = $1",
                role_name(schema),
            )
            assert role is not None and tuple(role) == (True, False, False, False)
            owner = await conn.fetchval("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1", schema)
            assert owner == role_name(schema)
        assert not await conn.fetchval("SELECT has_database_privilege('public', current_database(), 'CONNECT')")
        assert not await conn.fetchval("SELECT has_schema_privilege('public', 'public', 'CREATE')")
        assert not await conn.fetchval("SELECT has_schema_privilege('public', 'public', 'USAGE')")
    finally:
        await conn.close()


async def test_each_role_uses_only_its_own_schema(scratch: Scratch) -> None:
    urls = await _run(scratch)
    mine, other = scratch.schemas
    own = await asyncpg.connect(libpq_url(urls[mine]))
    theirs = await asyncpg.connect(libpq_url(urls[other]))
    try:
        assert await own.fetchval("SHOW search_path") == mine
        await own.execute("CREATE TABLE events (id int PRIMARY KEY)")  # unqualified: lands in its schema
        assert await own.fetchval("SELECT schemaname FROM pg_tables WHERE tablename = 'events'") == mine
        await theirs.execute(f"CREATE TABLE {other}.secrets (id int)")
        for statement in (
            f"CREATE TABLE {other}.intruder (id int)",
            "CREATE TABLE public.intruder (id int)",
            f"SELECT * FROM {other}.secrets",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await own.execute(statement)
    finally:
        await own.close()
        await theirs.close()


async def test_rerun_is_idempotent(scratch: Scratch) -> None:
    first = await _run(scratch)
    own = await asyncpg.connect(libpq_url(first[scratch.schemas[0]]))
    try:
        await own.execute("CREATE TABLE kept (id int)")
    finally:
        await own.close()

    assert await _run(scratch) == first

    own = await asyncpg.connect(libpq_url(first[scratch.schemas[0]]))
    try:
        assert await own.fetchval("SELECT count(*) FROM kept") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await own.execute("CREATE TABLE public.intruder (id int)")
    finally:
        await own.close()


@pytest.mark.parametrize("bad", ["Billing", "bill-ing", "x; DROP TABLE y", ""])
async def test_refuses_names_that_are_not_plain_identifiers(admin_url: str, bad: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        await bootstrap_database(admin_url, "tally_test_never", [bad], {bad: "pw"})


async def test_refuses_a_schema_without_password(admin_url: str) -> None:
    with pytest.raises(ValueError, match="no password"):
        await bootstrap_database(admin_url, "tally_test_never", ["x"], {})
