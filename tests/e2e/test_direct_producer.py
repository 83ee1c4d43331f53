"""A product backend producing straight onto usage.events.v1 with a second, independent Kafka client (librdkafka,
through confluent-kafka): valid events are counted, invalid ones land in the DLQ with the reason."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from confluent_kafka import Producer
from contracts.topics import USAGE_EVENTS, dlq_topic
from tally_stack.system import System
from tally_stack.testing import consume_all, eventually

pytestmark = pytest.mark.e2e


def cloud_event(event_id: str, customer: str, event_type: str, **data: object) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/product/backend",
            "type": "tally.usage.recorded",
            "subject": customer,
            "time": now,
            "data": {"customer_id": customer, "event_type": event_type, "timestamp": now, "properties": data},
        }
    ).encode()


async def test_events_produced_by_librdkafka_are_counted_and_bad_ones_dead_lettered(system: System) -> None:
    customer, event_type = f"direct-{uuid4().hex[:8]}", f"export_{uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        meter = {
            "key": f"exports_{uuid4().hex[:8]}",
            "event_type": event_type,
            "aggregation": "sum",
            "property": "rows",
        }
        assert (await http.post(f"{system.url('gateway')}/v1/meters", json=meter)).status_code == 201

        producer = Producer({"bootstrap.servers": system.stack.kafka_bootstrap, "acks": "all"})
        for value in (
            cloud_event("d1", customer, event_type, rows=10),
            cloud_event("d2", customer, event_type, rows=5),
            cloud_event("d1", customer, event_type, rows=10),  # a resend: counted once
            cloud_event("bad", customer, "has spaces", rows=1),
        ):
            producer.produce(USAGE_EVENTS, key=customer.encode(), value=value)
        assert producer.flush(10) == 0

        async def counted() -> None:
            window = {"from": (datetime.now(UTC) - timedelta(days=1)).isoformat(), "meter": meter["key"]}
            usage = await http.get(f"{system.url('gateway')}/v1/customers/{customer}/usage", params=window)
            assert usage.json()["total"] == 15

        await eventually(counted)

    async def dead_lettered() -> str:
        records = await consume_all(system.stack.kafka_bootstrap, dlq_topic(USAGE_EVENTS))
        group = system.extra_env["BILLING_CONSUMER_GROUP"]
        reasons = [
            dict((k, v.decode()) for k, v in r.headers)["tally-dlq-reason"]
            for r in records
            if r.key == customer.encode() and ("tally-dlq-consumer", group.encode()) in r.headers
        ]
        assert len(reasons) == 1
        return reasons[0]

    assert "event_type" in await eventually(dead_lettered)
