"""The running stack a benchmark measures: the one `make up` started, or one started (and stopped) for the run."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tally_stack.daemon import ENV_FILE, down, up
from tally_stack.envfile import read_env_file

STATE_DIR = Path(os.environ.get("TALLY_STATE_DIR", ".tally")).resolve()


@dataclass(frozen=True)
class RunningStack:
    gateway_url: str
    ingest_url: str
    kafka_bootstrap: str
    api_key: str
    database_url: str  # a superuser's libpq URL of the stack's database, on the stack's Postgres server


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
