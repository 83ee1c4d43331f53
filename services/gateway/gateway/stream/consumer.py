"""The feed of the hub: a Kafka consumer without a group (every gateway process must see every event, so no
shared group), reading billing.events.v1 and analytics.alerts.v1.

It starts at the first record stamped at or after this process's start, found by bisecting each partition
(gateway.stream.since), and still skips any older record it meets."""

import asyncio
import json
import logging
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from contracts.topics import ANALYTICS_ALERTS, BILLING_EVENTS
from tally_runtime.kafka import FETCH_MAX_WAIT_MS

from gateway.stream.hub import Hub, sse_frame
from gateway.stream.since import seek_to_time

log = logging.getLogger(__name__)
TOPICS = (BILLING_EVENTS, ANALYTICS_ALERTS)
RETRY_S = 2.0


def frame_of(value: bytes | None) -> bytes | None:
    """The SSE frame of one CloudEvent record (None for a record that is not one)."""
    try:
        event = json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    event_type = "".join(ch for ch in event["type"] if ch.isprintable() and ch not in "\r\n")
    return sse_frame(event_type, event, str(event.get("id", "")) or None)


async def feed(hub: Hub, bootstrap_servers: str, since_ms: int) -> None:
    """Runs until cancelled; a broker that is down is retried, from where it was."""
    positions: dict[TopicPartition, int] = {}
    while True:
        consumer = AIOKafkaConsumer(
            *TOPICS,
            bootstrap_servers=bootstrap_servers,
            client_id="gateway-stream",
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        try:
            await consumer.start()
            await seek_to_time(consumer, since_ms)
            for partition, offset in positions.items():
                consumer.seek(partition, offset)
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                for partition, records in batches.items():
                    for record in records:
                        if record.timestamp >= since_ms and (frame := frame_of(record.value)) is not None:
                            hub.publish(frame)
                    positions[partition] = records[-1].offset + 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the live feed lost the broker; retrying")
            await asyncio.sleep(RETRY_S)
        finally:
            await consumer.stop()


def now_ms() -> int:
    return int(time.time() * 1000)
