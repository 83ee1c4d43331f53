"""Where a groupless consumer starts: the first record at or after a time, found by bisecting each partition (Tansu
answers neither ListOffsets by time nor the end offset correctly, DESIGN.md, but a fetch's high watermark is right)."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.structs import TopicPartition

PROBE_S = 10.0  # an answer comes within a fetch wait; this bounds a broker that stopped answering


async def seek_to_time(consumer: AIOKafkaConsumer, since_ms: int) -> None:
    """Positions every assigned partition at its first record stamped `since_ms` or later (its end if none is);
    assumes a partition's timestamps do not go back in time, as one producer's do."""
    while not consumer.assignment():  # noqa: ASYNC110 (aiokafka has no event for its first assignment)
        await asyncio.sleep(0.05)
    for partition in consumer.assignment():
        consumer.seek(partition, await first_since(consumer, partition, since_ms))


async def first_since(consumer: AIOKafkaConsumer, partition: TopicPartition, since_ms: int) -> int:
    """The offset of the partition's first record stamped `since_ms` or later; its end when there is none."""
    first = await _record_at(consumer, partition, 0)
    if first is None:
        return consumer.highwater(partition) or 0
    if first.timestamp >= since_ms:
        return int(first.offset)
    low, high = int(first.offset) + 1, consumer.highwater(partition) or 0
    while low < high:  # the answer is in [low, high]
        middle = (low + high) // 2
        record = await _record_at(consumer, partition, middle)
        if record is None or record.timestamp >= since_ms:
            high = middle
        else:
            low = int(record.offset) + 1
    return low


async def _record_at(
    consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int
) -> ConsumerRecord[bytes, bytes] | None:
    """The first record at `offset` or after; None once the partition's high watermark shows there is none."""
    consumer.seek(partition, offset)
    deadline = time.monotonic() + PROBE_S
    while time.monotonic() < deadline:
        if records := (await consumer.getmany(partition, timeout_ms=100, max_records=1)).get(partition):
            return records[0]
        if (highwater := consumer.highwater(partition)) is not None and highwater <= offset:
            return None
    raise TimeoutError(f"{partition} gave no record at offset {offset} and no high watermark")
