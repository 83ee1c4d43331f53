"""Catalog use cases. The caller owns the transaction."""

from collections.abc import Sequence

from contracts.billing import MeterCreated, MeterCreatedEvent, meter_created
from contracts.topics import BILLING_EVENTS
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.outbox import enqueue
from tally_runtime.pages import split_page

from billing.catalog import repository
from billing.catalog.models import Meter
from billing.catalog.schemas import MeterCreate
from billing.db import outbox
from billing.outgoing import SOURCE
from billing.usage import repository as usage_repository


class MeterExists(Exception):
    pass


async def create_meter(session: AsyncSession, data: MeterCreate) -> Meter:
    """Create a meter and total every event already recorded, so usage sent before the meter still counts."""
    await usage_repository.lock_meter_set(session, exclusive=True)
    meter = Meter(id=new_id("mtr"), **data.model_dump())
    if not await repository.insert_meter(session, meter):
        raise MeterExists(data.key)
    await usage_repository.backfill_totals(session, meter.id)
    created = await repository.meter_by_id(session, meter.id)
    assert created is not None
    await enqueue(session, outbox, BILLING_EVENTS, created.id, _meter_created(created))
    return created


def _meter_created(meter: Meter) -> MeterCreatedEvent:
    data = MeterCreated(
        meter_id=meter.id,
        key=meter.key,
        event_type=meter.event_type,
        aggregation=meter.aggregation,
        property=meter.property,
        filters=meter.filters,
        group_by=meter.group_by,
        created_at=meter.created_at,
    )
    return meter_created(new_id("evt"), data, SOURCE)


async def list_meters(session: AsyncSession, after: str | None, limit: int) -> tuple[Sequence[Meter], str | None]:
    return split_page(await repository.list_meters(session, after, limit + 1), limit, lambda meter: meter.id)
