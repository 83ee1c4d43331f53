"""Rebuilding the usage projections: empty them and record usage.events.v1 again from its beginning under a fresh
consumer group. Each event counts once by (customer, event id) whatever the order, so the result is the one the
live consumer reached."""

import time
from dataclasses import dataclass
from uuid import uuid4

from contracts.envelope import ContractError
from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent, decode_usage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.config import AnalyticsSettings
from analytics.projections.replay import Records, replay
from analytics.usage import repository, service


@dataclass
class UsageRebuilt:
    records: int = 0
    events: int = 0
    new: int = 0
    rejected: int = 0
    seconds: float = 0.0


async def rebuild_usage(settings: AnalyticsSettings, sessions: async_sessionmaker[AsyncSession]) -> UsageRebuilt:
    started = time.perf_counter()
    result = UsageRebuilt()
    async with sessions() as session, session.begin():
        await repository.truncate(session)

    async def apply(records: Records) -> None:
        messages: list[UsageRecordedEvent | UsageBatchRecordedEvent] = []
        for record in records:
            try:
                messages.append(decode_usage(record.value or b""))
            except ContractError:
                result.rejected += 1  # the live consumer sent it to the DLQ already
        async with sessions() as session, session.begin():
            recorded = await service.record_usage(session, messages)
        result.events += recorded.events
        result.new += recorded.new

    group = f"{settings.consumer_group}-usage-rebuild-{uuid4().hex[:8]}"
    result.records = await replay(settings.kafka_bootstrap_servers, USAGE_EVENTS, group, apply)
    async with sessions() as session, session.begin():
        await repository.analyze(session)
    result.seconds = time.perf_counter() - started
    return result


def describe_usage(result: UsageRebuilt) -> str:
    rate = result.records / result.seconds if result.seconds else 0.0
    return (
        f"rebuilt from {USAGE_EVENTS}: {result.records:,} records, {result.events:,} events ({result.new:,} kept, "
        f"the rest duplicates), {result.rejected:,} undecodable, in {result.seconds:.1f} s ({rate:,.0f} records/s)"
    )
