"""The dead-letter topics: what is in them, why, and putting it back.

Consumers send `<topic>.dlq` what they could not decode or validate, with the reason and where it came from in
`tally-dlq-*` headers. A replay produces the same key, value and original headers onto the original topic (after
the producer or the consumer was fixed); consumers deduplicate by event id, so replaying twice counts nothing twice.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from contracts.topics import dlq_topic

DLQ_HEADER_PREFIX = "tally-dlq-"
REPLAYED_FROM = "tally-replayed-from"
IDLE_S = 1.0


class NotADeadLetter(Exception):
    """A message on a DLQ without the headers our consumers write: put there by hand; replay it by hand."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers.get("tally-dlq-reason", "")

    @property
    def origin(self) -> str:
        """topic/partition@offset it was read from, by which consumer group."""
        h = self.headers
        where = f"{h.get('tally-dlq-topic')}/{h.get('tally-dlq-partition')}@{h.get('tally-dlq-offset')}"
        return f"{where} by {h.get('tally-dlq-consumer')}"

    def original_headers(self) -> list[tuple[str, bytes]]:
        kept = {name: value for name, value in self.headers.items() if not name.startswith(DLQ_HEADER_PREFIX)}
        return [(name, value.encode()) for name, value in kept.items()]


async def read(bootstrap: str, topic: str, *, from_offset: int = 0, limit: int | None = None) -> list[DeadLetter]:
    """The dead letters of `topic` (the topic's name, or its .dlq), oldest first, read without a consumer group
    until no more arrive."""
    name = topic if topic.endswith(".dlq") else dlq_topic(topic)
    consumer = AIOKafkaConsumer(name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        while limit is None or len(letters) < limit:
            batches = await consumer.getmany(timeout_ms=int(IDLE_S * 1000))
            if not batches:
                break
            letters += [_letter(r) for records in batches.values() for r in records if r.offset >= from_offset]
    finally:
        await consumer.stop()
    letters.sort(key=lambda letter: (letter.timestamp_ms, letter.partition, letter.offset))
    return letters[:limit] if limit is not None else letters


async def replay(bootstrap: str, letters: Sequence[DeadLetter]) -> int:
    """Each letter back onto the topic it came from (acks=all); returns how many."""
    for letter in letters:
        if "tally-dlq-topic" not in letter.headers:
            raise NotADeadLetter(f"{letter.partition}@{letter.offset} does not say which topic it came from")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        sent = [
            await producer.send(
                letter.headers["tally-dlq-topic"],
                value=letter.value,
                key=letter.key,
                headers=[*letter.original_headers(), (REPLAYED_FROM, f"{letter.partition}@{letter.offset}".encode())],
            )
            for letter in letters
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return len(letters)


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {name: value.decode(errors="replace") for name, value in record.headers}
    return DeadLetter(record.partition, record.offset, record.timestamp, record.key, record.value or b"", headers)
