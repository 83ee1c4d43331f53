"""The transactional outbox: a service writes the events it announces in the same transaction as its change; a
relay in its worker publishes them in order, then deletes them. Never the database and Kafka as two steps."""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from contracts.envelope import CloudEvent, encode_event
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tally_runtime.kafka import create_producer, header_dict, trace_headers
from tally_runtime.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)
# One relay at a time per schema keeps each key's events in order: the lock is (RELAY_LOCK, hashtext(schema)), so
# services sharing a database do not wait for each other's relays.
RELAY_LOCK = 7_361_043
BATCH = 500


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )


async def enqueue(session: AsyncSession, outbox: Table, topic: str, key: str, event: CloudEvent[Any]) -> None:
    """Add the event to the caller's transaction; it is published once that transaction commits."""
    headers = header_dict(trace_headers())
    await session.execute(outbox.insert().values(topic=topic, key=key, payload=encode_event(event), headers=headers))


async def relay_once(session: AsyncSession, outbox: Table, producer: AIOKafkaProducer) -> int:
    """Publish the oldest pending events and delete them; returns how many. The caller commits."""
    lock = func.pg_try_advisory_xact_lock(RELAY_LOCK, func.hashtext(outbox.schema or ""))
    locked = await session.scalar(select(lock))
    if not locked:
        return 0
    rows: Sequence[Any] = (await session.execute(select(outbox).order_by(outbox.c.id).limit(BATCH))).all()
    if not rows:
        return 0
    acks = [
        await producer.send(
            row.topic,
            value=row.payload,
            key=row.key.encode(),
            headers=[(name, value.encode()) for name, value in row.headers.items()],
        )
        for row in rows
    ]
    await asyncio.gather(*acks)
    await session.execute(delete(outbox).where(outbox.c.id.in_([row.id for row in rows])))
    return len(rows)


# An idle relay polls less and less often, up to IDLE_MAX_S (the longest an announcement then waits), and at once
# again after it found work.
IDLE_MIN_S = 0.05
IDLE_MAX_S = 0.5


async def run_relay(sessions: async_sessionmaker[AsyncSession], outbox: Table, producer: AIOKafkaProducer) -> None:
    """Until cancelled: publish whatever is pending; on a broker or database failure, wait and try again."""
    idle_s = IDLE_MIN_S
    while True:
        try:
            async with sessions() as session, session.begin():
                published = await relay_once(session, outbox, producer)
        except (KafkaError, DBAPIError, OSError, TimeoutError):
            log.exception("outbox relay failed; retrying")
            published = 0
            await asyncio.sleep(1)
        OUTBOX_PUBLISHED.labels(outbox.schema or "public").inc(published)
        if published == BATCH:  # more are waiting: how many, for the operators
            with contextlib.suppress(DBAPIError, OSError):
                async with sessions() as session:
                    OUTBOX_BACKLOG.labels(outbox.schema or "public").set(
                        await session.scalar(select(func.count()).select_from(outbox)) or 0
                    )
        else:
            OUTBOX_BACKLOG.labels(outbox.schema or "public").set(0)
        if published:
            idle_s = IDLE_MIN_S
        else:
            await asyncio.sleep(idle_s)
            idle_s = min(idle_s * 2, IDLE_MAX_S)


class OutboxRelay:
    """The relay as a worker's background task: `start` and `stop` go in the worker's start-up and shutdown."""

    def __init__(self, sessions: Callable[[], async_sessionmaker[AsyncSession]], outbox: Table, bootstrap: str) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._producer = create_producer(self._bootstrap, client_id=f"{self._outbox.schema}-outbox")
        await self._producer.start()
        self._task = asyncio.create_task(run_relay(self._sessions(), self._outbox, self._producer))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._producer is not None:
            await self._producer.stop()
