"""Reading a topic from its beginning to its current end with a fresh consumer group (rebuilds and benchmarks)."""

import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from tally_runtime.kafka import FETCH_MAX_WAIT_MS

Records = Sequence[ConsumerRecord[bytes, bytes]]
MAX_RECORDS = 5000
IDLE_S = 2.0
"""Tansu's end offsets are unreliable: the end is reached when every partition's position has met its
high-water mark, or when nothing has come for this long."""


async def replay(
    bootstrap: str, topic: str, group_id: str, handle: Callable[[Records], Awaitable[None]], *, commit: bool = True
) -> int:
    """Hands every record to `handle`, batch by batch, committing each batch after it; returns how many."""
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
        return await _drain(consumer, partitions, handle, commit=commit)
    finally:
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer,
    partitions: Sequence[TopicPartition],
    handle: Callable[[Records], Awaitable[None]],
    *,
    commit: bool,
) -> int:
    total, idle_since = 0, time.monotonic()
    while True:
        fetched = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
        records = [record for batch in fetched.values() for record in batch]
        if records:
            await handle(records)
            if commit:
                await consumer.commit()
            total += len(records)
            idle_since = time.monotonic()
        elif await _at_end(consumer, partitions) or time.monotonic() - idle_since > IDLE_S:
            return total


async def _at_end(consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> bool:
    for partition in partitions:
        highwater = consumer.highwater(partition)
        if highwater is None or await consumer.position(partition) < highwater:
            return False
    return True
