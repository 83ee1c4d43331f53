"""Each migration Job's command, run as the Job would run it (its own role's URL, the service's settings), against
the test session's Postgres: it exits 0 and leaves the schema at the newest migration."""

import asyncio
import importlib
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra

from deploy.k8s.inventory import ServiceInfo, environment, services

FAKE_SECRET = "0123456789abcdef0123456789abcdef"


async def _version(url: str, schema: str) -> str:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        version: str = await connection.fetchval(f"SELECT version_num FROM {schema}.alembic_version")
        return version
    finally:
        await connection.close()


@pytest.mark.parametrize("service", [s for s in services() if s.schema], ids=lambda s: s.name)
def test_migration_job_command_migrates_the_schema(
    service: ServiceInfo, infra: Infra, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    assert service.schema is not None
    [job] = [r for r in rendered["prod"] if r["kind"] == "Job" and r["metadata"]["name"] == f"{service.name}-migrate"]
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["tally", "db", "migrate"]
    env = {"PATH": os.environ["PATH"], service.database_url_var: infra.database_urls[service.schema]}
    for var in environment(service.settings):
        if var.required and var.name != service.database_url_var:
            env[var.name] = "ops@tally.example" if var.name.endswith("EMAIL") else FAKE_SECRET
    env["TALLY_BOOTSTRAP_API_KEY"] = FAKE_SECRET
    result = subprocess.run(
        [sys.executable, "-m", "tally_cli.main", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    migrations = importlib.import_module(f"{service.package}.db").MIGRATIONS
    head = ScriptDirectory(str(migrations)).get_current_head()
    assert asyncio.run(_version(infra.database_urls[service.schema], service.schema)) == head
