"""`python -m analytics rebuild`: empty the billing projections and apply billing.events.v1 again from its
beginning under a fresh consumer group. The projections are a pure function of the topic, so the result is the
one the live consumer reached (as long as the ANALYTICS_ policy settings are unchanged)."""

import gc
import time
from dataclasses import dataclass
from uuid import uuid4

from contracts.envelope import ContractError
from contracts.topics import BILLING_EVENTS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.config import AnalyticsSettings
from analytics.projections import repository
from analytics.projections.decoding import BillingEvent, Ignored, decode_billing
from analytics.projections.replay import Records, replay
from analytics.projections.service import apply_events


@dataclass
class Rebuilt:
    records: int = 0
    applied: int = 0
    ignored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rows: dict[str, int] | None = None


async def rebuild(
    settings: AnalyticsSettings, sessions: async_sessionmaker[AsyncSession], topic: str = BILLING_EVENTS
) -> Rebuilt:
    """`topic`: billing.events.v1, or a copy of it (benchmarks)."""
    started = time.perf_counter()
    result = Rebuilt()
    async with sessions() as session, session.begin():
        await repository.truncate_all(session)
    policy = settings.policy()

    async def apply(records: Records) -> None:
        events: list[BillingEvent] = []
        for record in records:
            try:
                event = decode_billing(record.value or b"")
            except ContractError:
                result.rejected += 1  # the live consumer sent it to the DLQ already
                continue
            if isinstance(event, Ignored):
                result.ignored += 1
            else:
                events.append(event)
        async with sessions() as session, session.begin():
            await repository.relax_commit(session)
            result.applied += (await apply_events(session, events, policy)).new

    group = f"{settings.consumer_group}-rebuild-{uuid4().hex[:8]}"
    # Millions of short-lived objects, freed by reference counting; the cyclic collector only slows the replay.
    gc.disable()
    try:
        result.records = await replay(settings.kafka_bootstrap_servers, topic, group, apply)
    finally:
        gc.enable()
    result.seconds = time.perf_counter() - started
    async with sessions() as session:
        result.rows = await repository.counts(session)
    return result


def describe(result: Rebuilt) -> str:
    rate = result.records / result.seconds if result.seconds else 0.0
    rows = ", ".join(f"{name} {count:,}" for name, count in (result.rows or {}).items())
    return (
        f"rebuilt from {BILLING_EVENTS}: {result.records:,} records ({result.applied:,} applied, "
        f"{result.ignored:,} of other types, {result.rejected:,} undecodable) in {result.seconds:.1f} s "
        f"({rate:,.0f} records/s)\nrows: {rows}"
    )
