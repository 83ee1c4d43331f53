"""The running stack a benchmark measures: the one `make up` started, or one started (and stopped) for the run."""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tally_runtime.db import migrate
from tally_stack.bootstrap import bootstrap_database, drop_database
from tally_stack.daemon import ENV_FILE, down, up
from tally_stack.envfile import read_env_file
from tally_stack.stack import load_secrets, password_var

STATE_DIR = Path(os.environ.get("TALLY_STATE_DIR", ".tally")).resolve()


@dataclass(frozen=True)
class RunningStack:
    gateway_url: str
    ingest_url: str
    kafka_bootstrap: str
    api_key: str
    database_url: str  # a superuser's libpq URL of the stack's database, on the stack's Postgres server


async def unthrottled_read_key(stack: RunningStack, name: str) -> str:
    """A read key without a practical rate limit (the default would throttle the bench's requests)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{stack.gateway_url}/v1/api-keys",
            json={"name": name, "scopes": ["read"], "rate_limit_per_s": 100_000},
            headers={"Authorization": f"Bearer {stack.api_key}"},
        )
    response.raise_for_status()
    key: str = response.json()["key"]
    return key


@contextmanager
def running_stack() -> Iterator[RunningStack]:
    started_here = not (STATE_DIR / ENV_FILE).exists()
    if started_here and up(STATE_DIR) != 0:
        raise SystemExit("could not start the stack; see the log above")
    env = read_env_file(STATE_DIR / ENV_FILE)
    try:
        yield RunningStack(
            env["TALLY_GATEWAY_URL"],
            env["TALLY_INGEST_URL"],
            env["KAFKA_BOOTSTRAP_SERVERS"],
            env["TALLY_API_KEY"],
            env["DATABASE_URL"],
        )
    finally:
        if started_here:
            down(STATE_DIR)


@asynccontextmanager
async def bench_database(admin_url: str, schema: str, migrations: Path) -> AsyncIterator[str]:
    """A database of the bench's own on the stack's server, with `schema`'s role, migrated, dropped afterwards;
    yields the role's URL (the stack's own worker would otherwise act on what the bench writes)."""
    name = f"tally_bench_{schema}_{os.getpid()}"
    password = load_secrets(STATE_DIR, os.environ)[password_var(schema)]
    try:
        urls = await bootstrap_database(admin_url, name, [schema], {schema: password})
        await migrate(migrations, urls[schema])
        yield urls[schema]
    finally:
        await drop_database(admin_url, name)
