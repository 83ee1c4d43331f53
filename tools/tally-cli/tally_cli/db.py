"""Migrating a service's schema to head, as its processes do on start-up, without starting them (before a rollout,
from a Kubernetes Job)."""

import importlib
import os
from pathlib import Path

from tally_runtime.db import migrate

PACKAGES = {"billing": "billing", "analytics": "analytics", "assistant": "assistant", "gateway": "gateway"}


class NoDatabaseUrl(Exception):
    pass


async def migrate_service(service: str, database_url: str | None = None) -> str:
    """Upgrades `service`'s schema with its own migrations (its package must be installed here), connecting with
    `database_url` or the service's own <PACKAGE>_DATABASE_URL; returns the URL's host part for the report."""
    package = PACKAGES[service]
    url = database_url or os.environ.get(f"{package.upper()}_DATABASE_URL")
    if not url:
        raise NoDatabaseUrl(f"set {package.upper()}_DATABASE_URL or pass --database-url")
    migrations: Path = importlib.import_module(f"{package}.db").MIGRATIONS
    await migrate(migrations, url)
    return url.rsplit("@", 1)[-1]
