"""`python -m billing.demo --customers 500 --months 24 [--wait 300]`: writes the synthetic history into billing's
database (BILLING_DATABASE_URL; migrated first) unless it is there already, once the plans it subscribes to exist
(the demo makes them through the API: starter, professional, enterprise and their _yearly twins). Run it before
billing's worker starts (the worker would close the story's periods at today's date before the story reaches them);
the worker's relay then publishes the history's events."""

import argparse
import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from tally_runtime.lifespans import Database

from billing.config import get_settings
from billing.db import MIGRATIONS, SCHEMA
from billing.demo.seed import plans_exist, seeded, write
from billing.demo.story import write_story

log = logging.getLogger("billing.demo")


async def main(customers: int, months: int, wait_s: float, seed: int) -> None:
    settings = get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    await database.start()
    try:
        now = datetime.now(UTC)
        story = write_story(customers, months, now, seed)
        if await seeded(database.sessions, story):
            log.info("the demo history is there already")
            return
        deadline = asyncio.get_running_loop().time() + wait_s
        while not await plans_exist(database.sessions, story):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("no demo history: its plans did not appear within %.0f s", wait_s)
                return
            await asyncio.sleep(1.0)
        started = datetime.now(UTC)
        done = await write(database.sessions, story, settings.dunning_policy(), now)
        log.info(
            "demo history: %d customers, %d steps (%d refused, %d skipped after dunning had ended the subscription), "
            "%d invoices, %d declined payments, in %.0f s",
            len(story.customers),
            done.steps,
            len(done.refused),
            done.after_dunning,
            done.invoices,
            len(done.declined),
            (datetime.now(UTC) - started).total_seconds(),
        )
        for refused in done.refused[:10]:
            log.info("refused: %s", refused)
    finally:
        await database.stop()


def cli(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m billing.demo", description=__doc__)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the plans to exist")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main(args.customers, args.months, args.wait, args.seed))


if __name__ == "__main__":
    cli()
