"""Subscriber for billing.events.v1: applies each batch to the projections in one transaction, then commits."""

from collections.abc import Callable, Sequence

from contracts.topics import BILLING_EVENTS
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Delivered, Recorded, subscribe_batch

from analytics.projections.decoding import BillingEvent, Ignored, decode_billing
from analytics.projections.segments import Policy
from analytics.projections.service import apply_events


def subscribe(broker: KafkaBroker, new_session: Callable[[], AsyncSession], group_id: str, policy: Policy) -> None:
    async def apply(batch: Sequence[Delivered[BillingEvent | Ignored]]) -> Recorded:
        events = [item.event for item in batch if not isinstance(item.event, Ignored)]
        async with new_session() as session, session.begin():
            recorded = await apply_events(session, events, policy)
        return Recorded(events=len(batch), new=recorded.new + len(batch) - len(events))

    subscribe_batch(broker, topic=BILLING_EVENTS, group_id=f"{group_id}-billing", decode=decode_billing, handle=apply)
