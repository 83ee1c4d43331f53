import asyncio
import os
import pwd
from pathlib import Path

import asyncpg
import pytest
from tally_stack.postgres import (
    EMBEDDED_SYSTEM_USER,
    LOCAL_POSTGRES_URL,
    Postgres,
    connection_error,
    ensure_postgres,
    stop_postgres,
)
from tally_stack.procs import free_port


async def _fetch(url: str, query: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def test_database_url_that_answers_is_used_as_is(admin_url: str, tmp_path: Path) -> None:
    postgres = ensure_postgres(admin_url, tmp_path / "data")
    assert postgres == Postgres(admin_url, None)
    assert not (tmp_path / "data").exists()


def test_database_url_in_sqlalchemy_form_is_accepted(admin_url: str, tmp_path: Path) -> None:
    postgres = ensure_postgres(admin_url.replace("postgresql://", "postgresql+asyncpg://"), tmp_path)
    assert postgres == Postgres(admin_url, None)


def test_database_url_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(RuntimeError, match="does not answer") as caught:
        ensure_postgres(url, tmp_path / "data")
    assert "s3cret" not in str(caught.value)
    assert not (tmp_path / "data").exists()


def test_without_database_url_the_local_server_is_used(tmp_path: Path) -> None:
    if asyncio.run(connection_error(LOCAL_POSTGRES_URL, 1.0)) is not None:
        pytest.skip("no PostgreSQL answers at 127.0.0.1:5432")
    assert ensure_postgres(None, tmp_path / "data") == Postgres(LOCAL_POSTGRES_URL, None)


def test_fallback_starts_an_embedded_server(private_postgres: Postgres) -> None:
    assert private_postgres.proc is not None and private_postgres.proc.poll() is None
    version = asyncio.run(_fetch(private_postgres.admin_url, "SHOW server_version"))
    assert str(version).startswith("18.")
    assert asyncio.run(_fetch(private_postgres.admin_url, "SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        owner = Path(f"/proc/{private_postgres.proc.pid}/status").read_text().split("Uid:")[1].split()[0]
        assert pwd.getpwuid(int(owner)).pw_name == EMBEDDED_SYSTEM_USER


def test_embedded_data_persists_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    first = ensure_postgres(None, data_dir, probe_url=unreachable)
    assert first.proc is not None
    try:
        asyncio.run(_fetch(first.admin_url, "CREATE TABLE kept AS SELECT 42 AS answer"))
        # Two postmasters cannot share a data directory: a second caller shares the running one.
        assert ensure_postgres(None, data_dir, probe_url=None) == Postgres(first.admin_url, None)
    finally:
        stop_postgres(first.proc)
    assert first.proc.returncode == 0  # a clean (fast) shutdown

    initialised = (data_dir / "PG_VERSION").stat().st_mtime_ns
    second = ensure_postgres(None, data_dir, probe_url=None)
    assert second.proc is not None
    try:
        assert asyncio.run(_fetch(second.admin_url, "SELECT answer FROM kept")) == 42
        assert (data_dir / "PG_VERSION").stat().st_mtime_ns == initialised  # no second initdb
    finally:
        stop_postgres(second.proc)
