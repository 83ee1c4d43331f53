"""Reading a topic from its beginning to its current end with a fresh consumer group (rebuilds and benchmarks)."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from tally_runtime.kafka import FETCH_MAX_WAIT_MS

Records = Sequence[ConsumerRecord[bytes, bytes]]
MAX_RECORDS = 5000
IDLE_S = 2.0
"""Tansu's end offsets are unreliable: the end is reached when every partition's position has met its
high-water mark, or when nothing has come for this long."""


@dataclass(frozen=True)
class Reader:
    consumer: AIOKafkaConsumer
    partitions: Sequence[TopicPartition]

    async def drain(self, handle: Callable[[Records], Awaitable[None]], *, commit: bool = False) -> int:
        """Hands every record up to the topic's current end to `handle`, batch by batch (committing each batch
        after it when asked); returns how many. Called again, it goes on from there to the new end."""
        total, idle_since = 0, time.monotonic()
        while True:
            fetched = await self.consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            records = [record for batch in fetched.values() for record in batch]
            if records:
                await handle(records)
                if commit:
                    await self.consumer.commit()
                total += len(records)
                idle_since = time.monotonic()
            # After a batch too: while events keep coming, a fetch is rarely empty, and the end would be chased.
            if await self.at_end() or (not records and time.monotonic() - idle_since > IDLE_S):
                return total

    async def at_end(self) -> bool:
        """Every partition's position has met the high-water mark last fetched (which may be behind the broker's)."""
        for partition in self.partitions:
            highwater = self.consumer.highwater(partition)
            if highwater is None or await self.consumer.position(partition) < highwater:
                return False
        return True


@asynccontextmanager
async def reading(bootstrap: str, topic: str, group_id: str) -> AsyncIterator[Reader]:
    """A consumer of every partition of `topic`, from its beginning."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        yield Reader(consumer, partitions)
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str, topic: str, group_id: str, handle: Callable[[Records], Awaitable[None]], *, commit: bool = True
) -> int:
    """Hands every record to `handle`, batch by batch, committing each batch after it; returns how many."""
    async with reading(bootstrap, topic, group_id) as reader:
        return await reader.drain(handle, commit=commit)
