"""Consuming a topic effectively once.

Each batch is decoded; the valid events are handed to the service, which writes them (deduplicated by event id)
in one database transaction; undecodable or invalid messages go to `<topic>.dlq` with the reason; only then are
the offsets committed. A handler failure (database down) rewinds the batch and redelivers it: never dropped,
never sent to the DLQ.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from contracts.envelope import ContractError
from contracts.topics import dlq_topic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from tally_runtime.kafka import FETCH_MAX_WAIT_MS, header_dict
from tally_runtime.metrics import CONSUMER_LAG, EVENTS_CONSUMED

E = TypeVar("E")
RETRY_DELAY_S = 1.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered(Generic[E]):
    event: E
    record: ConsumerRecord[bytes, bytes]


@dataclass(frozen=True)
class Rejected:
    record: ConsumerRecord[bytes, bytes]
    reason: str


@dataclass(frozen=True)
class Recorded:
    events: int  # in the messages handled
    new: int  # of those, not seen before (the rest were duplicates)


# Writes the messages' events in one transaction.
BatchHandler = Callable[[Sequence[Delivered[E]]], Awaitable[Recorded]]


def split_batch(
    records: Sequence[ConsumerRecord[bytes, bytes]], decode: Callable[[bytes], E]
) -> tuple[list[Delivered[E]], list[Rejected]]:
    """`decode` parses and validates one message, raising ContractError when it cannot."""
    delivered: list[Delivered[E]] = []
    rejected: list[Rejected] = []
    for record in records:
        try:
            delivered.append(Delivered(decode(record.value or b""), record))
        except ContractError as exc:
            rejected.append(Rejected(record, exc.reason))
    return delivered, rejected


def dlq_headers(rejected: Rejected, group_id: str) -> dict[str, str]:
    record = rejected.record
    return header_dict(record.headers) | {
        "tally-dlq-reason": rejected.reason[:1000],
        "tally-dlq-topic": record.topic,
        "tally-dlq-partition": str(record.partition),
        "tally-dlq-offset": str(record.offset),
        "tally-dlq-consumer": group_id,
    }


def _start_span(tracer: trace.Tracer, group_id: str, record: ConsumerRecord[bytes, bytes]) -> Span:
    parent = propagate.extract(header_dict(record.headers))
    return tracer.start_span(
        f"{record.topic} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": group_id,
            "messaging.kafka.offset": record.offset,
            "messaging.destination.partition.id": str(record.partition),
        },
    )


def _writing(tracer: trace.Tracer, topic: str, spans: Sequence[Span]) -> AbstractContextManager[Span]:
    """The batch's write (its SQL spans beneath it): a child of the first message's span, linked to the others'."""
    parent = trace.set_span_in_context(spans[0]) if spans else None
    links = [Link(span.get_span_context()) for span in spans[1:]]
    return tracer.start_as_current_span(f"{topic} write", context=parent, links=links)


def _record_lag(consumer: Any, records: Sequence[ConsumerRecord[bytes, bytes]], group_id: str) -> None:
    last: dict[TopicPartition, int] = {}
    for record in records:
        last[TopicPartition(record.topic, record.partition)] = record.offset
    for partition, offset in last.items():
        highwater = consumer.highwater(partition)
        if highwater is not None:
            lag = max(highwater - offset - 1, 0)
            CONSUMER_LAG.labels(partition.topic, str(partition.partition), group_id).set(lag)


async def _process(
    broker: KafkaBroker,
    group_id: str,
    decode: Callable[[bytes], E],
    handle: BatchHandler[E],
    records: Sequence[ConsumerRecord[bytes, bytes]],
) -> None:
    tracer = trace.get_tracer("tally.consumer")
    delivered, rejected = split_batch(records, decode)
    spans = [_start_span(tracer, group_id, item.record) for item in delivered]
    try:
        with _writing(tracer, records[0].topic, spans):
            recorded = await handle(delivered)
    except Exception as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, "batch will be redelivered"))
            span.end()
        log.exception("batch of %d failed; rewinding to redeliver it", len(records))
        await asyncio.sleep(RETRY_DELAY_S)
        raise
    for span in spans:
        span.end()
    for item in rejected:
        log.warning("message sent to the DLQ", extra={"topic": item.record.topic, "reason": item.reason})
        await broker.publish(
            item.record.value or b"",
            dlq_topic(item.record.topic),
            key=item.record.key,
            headers=dlq_headers(item, group_id),
        )
    topic = records[0].topic
    EVENTS_CONSUMED.labels(topic, group_id, "processed").inc(recorded.new)
    EVENTS_CONSUMED.labels(topic, group_id, "duplicate").inc(recorded.events - recorded.new)
    EVENTS_CONSUMED.labels(topic, group_id, "dlq").inc(len(rejected))


async def _raw_records(msg: StreamMessage[Any]) -> None:
    """Skip FastStream's decoding (a message object per record): `_process` decodes the raw records itself."""


def subscribe_batch(
    broker: KafkaBroker,
    *,
    topic: str,
    group_id: str,
    decode: Callable[[bytes], E],
    handle: BatchHandler[E],
    max_records: int = 5000,
) -> None:
    """Register a batch subscriber that commits offsets only after `handle` has committed its transaction."""

    @broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=50,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=30 * 60 * 1000,
        decoder=_raw_records,
    )
    async def consume(msg: KafkaMessage) -> None:
        records: Sequence[ConsumerRecord[bytes, bytes]] = msg.raw_message
        await _process(broker, group_id, decode, handle, records)
        _record_lag(msg.consumer, records, group_id)
