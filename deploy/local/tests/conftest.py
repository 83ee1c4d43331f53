"""Servers for tally_stack's own tests: the session's PostgreSQL, and a private embedded one."""

import os
from collections.abc import Iterator

import pytest
from tally_stack.postgres import Postgres, ensure_postgres, stop_postgres
from tally_stack.procs import free_port


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A superuser URL: DATABASE_URL, else 127.0.0.1:5432, else an embedded server for this session."""
    postgres = ensure_postgres(os.environ.get("DATABASE_URL"), tmp_path_factory.mktemp("pg") / "data")
    yield postgres.admin_url
    if postgres.proc is not None:
        stop_postgres(postgres.proc)


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """An embedded server of this session's own, reached through ensure_postgres' fallback path: for
    tests that create the fixed roles (tally_billing, ...) that a running stack may be using."""
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    postgres = ensure_postgres(None, tmp_path_factory.mktemp("private-pg") / "data", probe_url=unreachable)
    assert postgres.proc is not None
    yield postgres
    stop_postgres(postgres.proc)
