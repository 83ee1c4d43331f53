"""Kafka clients configured the way Tally needs them on any Kafka-protocol broker (Tansu included)."""

import logging

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from opentelemetry import propagate

# Tansu cannot do the idempotent producer; correctness lives in the consumers' deduplication.
# A record holds up to one request's events of one customer: 1 MiB of input, a little more once enveloped.
PRODUCER_OPTIONS = {
    "acks": "all",
    "enable_idempotence": False,
    "linger_ms": 5,
    "request_timeout_ms": 10_000,
    "max_request_size": 4 * 1024 * 1024,
}
# A waiting fetch is not woken by new data on Tansu: an idle consumer's latency is up to fetch_max_wait_ms. Each
# consumer of an idle stack asks again every fetch_max_wait_ms; at 20 ms, the broker spent a fifth of a core on it.
FETCH_MAX_WAIT_MS = 100

Headers = list[tuple[str, bytes]]


def create_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    """FastStream's per-message access log goes to our JSON logs at DEBUG; consumers log what matters."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=False,
        acks="all",
        logger=logging.getLogger("tally.kafka"),
        log_level=logging.DEBUG,
    )


def create_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap_servers, client_id=client_id, **PRODUCER_OPTIONS)


def trace_headers() -> Headers:
    """The current trace context as Kafka headers (W3C traceparent), for the consumer to continue."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


def header_dict(headers: Headers | tuple[tuple[str, bytes], ...] | None) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in headers or ()}


async def broker_ready(producer: AIOKafkaProducer, topic: str) -> None:
    """Raises unless a broker answers a fresh metadata request (not the cache) that lists `topic`."""
    metadata = await producer.client.fetch_all_metadata()
    if topic not in metadata.topics():
        raise RuntimeError(f"topic {topic} does not exist")
