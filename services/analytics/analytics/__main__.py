import argparse
import asyncio
import sys

from tally_runtime.cli import run_service
from tally_runtime.lifespans import Database
from tally_runtime.logs import configure_logging

from analytics.app import create_app
from analytics.config import get_settings
from analytics.db import MIGRATIONS, SCHEMA
from analytics.projections.rebuild import describe, rebuild
from analytics.usage.rebuild import describe_usage, rebuild_usage
from analytics.worker import create_worker_app


async def _rebuild(*, usage: bool) -> None:
    settings = get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    await database.start()
    try:
        print(describe(await rebuild(settings, database.sessions)))
        if usage:
            print(describe_usage(await rebuild_usage(settings, database.sessions)))
    finally:
        await database.stop()


def _rebuild_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m analytics rebuild",
        description="Empty the projections of billing.events.v1 and replay the topic from its beginning.",
    )
    parser.add_argument(
        "--usage",
        action="store_true",
        help="also the usage rollups, from usage.events.v1: it keeps 35 days, so older usage history is lost",
    )
    args = parser.parse_args(argv)
    configure_logging("analytics.rebuild", get_settings().log_level)
    asyncio.run(_rebuild(usage=args.usage))


if __name__ == "__main__":
    if sys.argv[1:2] == ["rebuild"]:
        _rebuild_command(sys.argv[2:])
    else:
        run_service("analytics", get_settings(), api=create_app, worker=create_worker_app)
