"""Subscriber for usage.events.v1: records each event once, updates the meter totals, announces the limit marks the
new usage reached and keeps usage for settled periods as rejected-late, all in one transaction per batch."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent, decode_usage, usage_items
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Delivered, Recorded, subscribe_batch

from billing.entitlements.service import announce_thresholds
from billing.invoices.late_usage import reject_settled
from billing.usage import service


def subscribe(broker: KafkaBroker, new_session: Callable[[], AsyncSession], group_id: str) -> None:
    async def record(batch: Sequence[Delivered[UsageRecordedEvent | UsageBatchRecordedEvent]]) -> Recorded:
        messages = [item.event for item in batch]
        async with new_session() as session, session.begin():
            recorded = await service.record_usage(session, messages)
            if recorded.new:
                customers = {customer for m in messages for customer, _ in usage_items(m)}
                await announce_thresholds(session, customers, datetime.now(UTC))
                await reject_settled(session, customers)
            return recorded

    subscribe_batch(broker, topic=USAGE_EVENTS, group_id=group_id, decode=decode_usage, handle=record)
