"""Group commit on the real broker: requests that arrive while a group is out go out together, as few records as
their partitions allow; every event is on the topic once; a group is no larger than one request may be; and a
group that does not go out fails every request in it, without stopping the next."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from contracts.envelope import ContractError
from contracts.topics import USAGE_EVENTS
from contracts.usage import decode_usage, usage_items
from tally_runtime.kafka import PRODUCER_OPTIONS
from tally_stack.testing import Infra, consume_all
from usage_ingest.events.parsing import IncomingEvent
from usage_ingest.events.publisher import Publisher, PublishFailed
from usage_ingest.events.service import Submission


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, **PRODUCER_OPTIONS | {"linger_ms": 0})
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def submission(run: str, customer: str, ids: range, body_bytes: int = 100) -> Submission:
    events = [
        IncomingEvent(f"{run}-{n}", customer, "api_call", None, {"n": n}, f"body.events.{n}.", "timestamp") for n in ids
    ]
    return Submission(datetime.now(UTC), events, body_bytes)


async def records_of(infra: Infra, run: str) -> list[list[str]]:
    """The event ids of each record carrying this run's events."""
    found = []
    for record in await consume_all(infra.kafka_bootstrap, USAGE_EVENTS):
        try:
            ids = [item.event_id for _, item in usage_items(decode_usage(record.value or b""))]
        except ContractError:
            continue
        if ids and ids[0].startswith(run):
            found.append(ids)
    return found


async def test_requests_arriving_while_a_group_is_out_go_out_together(infra: Infra, producer: AIOKafkaProducer) -> None:
    run = uuid4().hex[:8]
    publisher = Publisher(producer, source="test", timeout_s=10, max_body_bytes=1024 * 1024)
    requests = [submission(run, f"{run}-c{n % 3}", range(n, n + 1)) for n in range(40)]
    await asyncio.gather(*(publisher.publish(s) for s in requests))

    records = await records_of(infra, run)
    assert sorted(i for ids in records for i in ids) == sorted(f"{run}-{n}" for n in range(40))
    # the first request goes out alone at once; the 39 that arrive meanwhile share a record per partition
    assert len(records) <= 1 + 3


async def test_a_group_holds_no_more_than_one_request_may(infra: Infra, producer: AIOKafkaProducer) -> None:
    run = uuid4().hex[:8]
    by_bytes = Publisher(producer, source="test", timeout_s=10, max_body_bytes=300)
    await asyncio.gather(*(by_bytes.publish(submission(run, run, range(n, n + 1))) for n in range(10)))
    by_events = Publisher(producer, source="test", timeout_s=10, max_body_bytes=1024 * 1024)
    await asyncio.gather(*(by_events.publish(submission(run, run, range(n, n + 400))) for n in (100, 500, 900)))

    sizes = sorted(len(ids) for ids in await records_of(infra, run))
    assert sum(sizes) == 10 + 1200
    assert [s for s in sizes if s <= 10] == [1, 3, 3, 3]  # the first alone, then 300 bytes of 100-byte bodies
    assert [s for s in sizes if s > 10] == [400, 800]  # a third 400 would pass 1,000 events


async def test_a_group_that_does_not_go_out_fails_every_request_in_it(producer: AIOKafkaProducer) -> None:
    run = uuid4().hex[:8]
    hurried = Publisher(producer, source="test", timeout_s=0.000_1, max_body_bytes=1024 * 1024)
    outcomes = await asyncio.gather(
        *(hurried.publish(submission(run, run, range(n, n + 1))) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(outcome, PublishFailed) for outcome in outcomes), outcomes

    hurried.timeout_s = 10
    await hurried.publish(submission(run, run, range(5, 6)))  # nothing left locked or half-open
