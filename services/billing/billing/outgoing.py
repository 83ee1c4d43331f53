"""Billing's announcements: each event goes through the outbox onto billing.events.v1, in the transaction of the
change it announces, keyed so that one customer's (or meter's) events stay in order."""

from datetime import datetime
from typing import TypeVar

from contracts.envelope import CloudEvent
from contracts.topics import BILLING_EVENTS
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.outbox import enqueue

from billing.db import outbox

SOURCE = "tally/billing"
DataT = TypeVar("DataT", bound=BaseModel)


async def publish(
    session: AsyncSession, event_cls: type[CloudEvent[DataT]], data: DataT, *, key: str, time: datetime
) -> None:
    await enqueue(session, outbox, BILLING_EVENTS, key, event_cls.of(new_id("evt"), data, source=SOURCE, time=time))
