"""The rebuild's fetching process hands over a topic's values in order per partition, goes on from where it stopped,
asks the broker nothing when told the end last fetched will do, and reports a broker it cannot read."""

import asyncio
from uuid import uuid4

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from analytics.projections.fetching import Values, fetching
from tally_stack.testing import Infra, produce


async def new_topic(bootstrap: str) -> str:
    name = f"test.fetching.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 3, 1)])
    finally:
        await admin.close()
    return name


def records(first: int, count: int) -> list[tuple[bytes | None, bytes]]:
    return [(f"key-{n % 5}".encode(), f"value-{n}".encode()) for n in range(first, first + count)]


async def test_the_topic_is_handed_over_and_followed(infra: Infra) -> None:
    topic = await new_topic(infra.kafka_bootstrap)
    await produce(infra.kafka_bootstrap, topic, records(0, 300))
    got: list[bytes] = []

    def keep(values: Values) -> None:
        got.extend(values)

    with fetching(infra.kafka_bootstrap, topic, f"test-{uuid4().hex[:8]}") as fetcher:
        assert await asyncio.to_thread(fetcher.drain, keep) == 300
        assert await asyncio.to_thread(fetcher.drain, keep, unless_at_end=True) == 0
        await produce(infra.kafka_bootstrap, topic, records(300, 40))
        caught = 0
        for _ in range(5):  # the broker's end may be known late: the rebuild's catch-up reads on likewise
            caught += await asyncio.to_thread(fetcher.drain, keep)
            if caught >= 40:
                break
        assert caught == 40
    assert sorted(got) == sorted(value for _, value in records(0, 340))
    for key in range(5):  # one key's values keep their order
        mine = [int(v.split(b"-")[1]) for v in got if int(v.split(b"-")[1]) % 5 == key]
        assert mine == sorted(mine)


async def test_a_failing_fetch_is_raised_in_the_caller() -> None:
    with (
        fetching("127.0.0.1:1", "nothing", "test-unreachable") as fetcher,
        pytest.raises(RuntimeError, match="fetching process failed"),
    ):
        await asyncio.to_thread(fetcher.drain, lambda _: None)
