"""Publishing a request's events to usage.events.v1, one record per partition, acknowledged by every in-sync replica
before the caller hears 202."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from contracts.topics import USAGE_EVENTS
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from tally_runtime.kafka import trace_headers

from usage_ingest.events.parsing import IncomingEvent
from usage_ingest.events.partitions import partition_of
from usage_ingest.events.service import to_records

tracer = trace.get_tracer("tally.usage_ingest")


class PublishFailed(Exception):
    """The broker did not acknowledge every record in time; the sender should retry the whole request."""


async def publish(
    producer: AIOKafkaProducer, events: Sequence[IncomingEvent], received_at: datetime, source: str, timeout_s: float
) -> None:
    with tracer.start_as_current_span(f"{USAGE_EVENTS} publish", kind=SpanKind.PRODUCER) as span:
        headers = trace_headers()
        try:
            async with asyncio.timeout(timeout_s):
                partitions = tuple(sorted(await producer.partitions_for(USAGE_EVENTS)))  # known: no request
                records = to_records(events, received_at, source, partial(partition_of, partitions=partitions))
                span.set_attribute("messaging.batch.message_count", len(records))
                acks = [
                    await producer.send(
                        USAGE_EVENTS, value=record.value, key=record.key, partition=record.partition, headers=headers
                    )
                    for record in records
                ]
                await asyncio.gather(*acks)
        except (KafkaError, TimeoutError) as exc:
            raise PublishFailed(repr(exc)) from exc
