from gateway.db import import_models, metadata
from tally_runtime.migrations import run_migrations

import_models()
run_migrations("gateway", metadata)
