"""Subscriber for usage.events.v1: keeps each event once and counts it per customer, type and UTC day, in one
transaction per batch (offsets committed after it)."""

from collections.abc import Callable, Sequence

from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent, decode_usage
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Delivered, Recorded, subscribe_batch

from analytics.usage import service


def subscribe(broker: KafkaBroker, new_session: Callable[[], AsyncSession], group_id: str) -> None:
    async def record(batch: Sequence[Delivered[UsageRecordedEvent | UsageBatchRecordedEvent]]) -> Recorded:
        async with new_session() as session, session.begin():
            return await service.record_usage(session, [item.event for item in batch])

    subscribe_batch(broker, topic=USAGE_EVENTS, group_id=group_id, decode=decode_usage, handle=record)
