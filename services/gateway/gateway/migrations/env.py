from gateway.db import metadata
from tally_runtime.migrations import run_migrations

run_migrations("gateway", metadata)
