"""Publishing usage events to usage.events.v1, keyed by customer, acknowledged by every in-sync replica."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from contracts.envelope import encode_event
from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageRecordedEvent
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from tally_runtime.kafka import trace_headers

tracer = trace.get_tracer("tally.usage_ingest")


class PublishFailed(Exception):
    """The broker did not acknowledge every event in time; the sender should retry the whole request."""


async def publish(producer: AIOKafkaProducer, events: Sequence[UsageRecordedEvent], timeout_s: float) -> None:
    with tracer.start_as_current_span(f"{USAGE_EVENTS} publish", kind=SpanKind.PRODUCER) as span:
        span.set_attribute("messaging.batch.message_count", len(events))
        headers = trace_headers()
        try:
            async with asyncio.timeout(timeout_s):
                acks = [
                    await producer.send(
                        USAGE_EVENTS,
                        value=encode_event(event),
                        key=event.data.customer_id.encode(),
                        headers=headers,
                    )
                    for event in events
                ]
                await asyncio.gather(*acks)
        except (KafkaError, TimeoutError) as exc:
            raise PublishFailed(repr(exc)) from exc
