from analytics.db import metadata
from tally_runtime.migrations import run_migrations

run_migrations("analytics", metadata)
