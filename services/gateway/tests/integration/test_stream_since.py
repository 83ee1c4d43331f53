"""The live feed's starting point: the first record at or after a time, found on the real broker by bisection."""

import asyncio
import time
from uuid import uuid4

from aiokafka import AIOKafkaConsumer
from contracts.topics import TopicSpec
from gateway.stream.since import seek_to_time
from tally_cli.topics import create_topics
from tally_stack.testing import Infra, produce


async def read_all(consumer: AIOKafkaConsumer) -> list[bytes]:
    values: list[bytes] = []
    while batches := await consumer.getmany(timeout_ms=1000):
        values += [record.value for records in batches.values() for record in records if record.value]
    return values


async def test_it_starts_at_the_first_record_since_the_time(infra: Infra) -> None:
    history, empty = f"history-{uuid4().hex[:8]}", f"empty-{uuid4().hex[:8]}"
    await create_topics(infra.kafka_bootstrap, [spec(history, 3), spec(empty, 2)])
    await produce(infra.kafka_bootstrap, history, [(b"k%d" % (i % 7), b"old %d" % i) for i in range(1_200)])
    await asyncio.sleep(0.05)
    since_ms = int(time.time() * 1000)
    await asyncio.sleep(0.05)
    await produce(infra.kafka_bootstrap, history, [(b"k%d" % (i % 7), b"new %d" % i) for i in range(40)])

    consumer = AIOKafkaConsumer(
        history, empty, bootstrap_servers=infra.kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await seek_to_time(consumer, since_ms)
        assert {partition.topic for partition in consumer.assignment()} == {history, empty}
        assert sorted(await read_all(consumer)) == sorted(b"new %d" % i for i in range(40))
    finally:
        await consumer.stop()


async def test_a_time_after_every_record_starts_at_the_end(infra: Infra) -> None:
    topic = f"ended-{uuid4().hex[:8]}"
    await create_topics(infra.kafka_bootstrap, [spec(topic, 2)])
    await produce(infra.kafka_bootstrap, topic, [(b"k%d" % i, b"old") for i in range(300)])
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        await seek_to_time(consumer, int(time.time() * 1000) + 60_000)
        positions = {partition.partition: await consumer.position(partition) for partition in consumer.assignment()}
        assert sum(positions.values()) == 300
        assert await read_all(consumer) == []
    finally:
        await consumer.stop()


def spec(name: str, partitions: int) -> TopicSpec:
    return TopicSpec(name, "key", partitions, None, False, (), (), ())
