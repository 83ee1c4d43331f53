"""The events API on the real broker: what it accepts is on the topic, each customer's events in order on the
partition a producer keying by the customer id puts that customer; what it refuses is not."""

import asyncio
import gzip
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer, ConsumerRecord
from confluent_kafka import KafkaError, Message, Producer
from contracts.envelope import ContractError, encode_event
from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageItem, decode_usage, usage_items, usage_recorded
from tally_stack.testing import Infra, consume_all, serving
from usage_ingest.app import create_app
from usage_ingest.config import IngestSettings
from usage_ingest.events.parsing import CLOUDEVENT, CLOUDEVENT_BATCH


def event(customer: str, event_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": event_id,
        "customer_id": customer,
        "type": "api_call",
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {"tokens": 120},
    }
    return body | overrides


def carried(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, UsageItem]]:
    """(customer, event) for each event of a usage.events.v1 record; none for another test's undecodable one."""
    try:
        return usage_items(decode_usage(record.value or b""))
    except ContractError:
        return []


async def published_for(infra: Infra, customer: str) -> list[UsageItem]:
    """The customer's events on the topic, in order, from whichever messages carry them."""
    records = await consume_all(infra.kafka_bootstrap, USAGE_EVENTS)
    return [item for record in records for owner, item in carried(record) if owner == customer]


async def test_batch_is_published_after_the_broker_acknowledges(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    response = await ingest.post("/v1/events/batch", json={"events": [event(customer, "a"), event(customer, "b")]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2}
    published = await published_for(infra, customer)
    assert [e.event_id for e in published] == ["a", "b"]
    assert published[0].properties == {"tokens": 120}


async def test_single_event_defaults_its_timestamp_to_receipt(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    before = datetime.now(UTC)
    body = event(customer, "only")
    del body["timestamp"]
    assert (await ingest.post("/v1/events", json=body)).status_code == 202
    [published] = await published_for(infra, customer)
    assert before <= published.timestamp <= datetime.now(UTC)


async def test_an_invalid_batch_is_refused_whole_with_each_bad_field(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    events = [
        event(customer, "good"),
        event(customer, "", type="api call"),
        event(customer, "big", properties={"blob": "x" * 9000}),
    ]
    response = await ingest.post("/v1/events/batch", json={"events": events})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.events.1.id", "body.events.1.type", "body.events.2.properties"} <= fields

    response = await ingest.post(
        "/v1/events/batch", json={"events": [event(customer, "ok"), event(customer, "o", timestamp=old)]}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.events.1.timestamp", "reason": "older than 35 days"}]
    assert await published_for(infra, customer) == []


async def test_batches_are_bounded(ingest: httpx.AsyncClient) -> None:
    events = [event("acme", str(i)) for i in range(1001)]
    response = await ingest.post("/v1/events/batch", json={"events": events})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.events"


async def test_a_key_is_required(ingest: httpx.AsyncClient) -> None:
    body = json.dumps({"events": [event("acme", "x")]})
    missing = await ingest.post("/v1/events/batch", content=body, headers={"Authorization": ""})
    wrong = await ingest.post("/v1/events/batch", content=body, headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")


async def test_cloudevents_single_and_batch(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    cloud = {
        "specversion": "1.0",
        "id": "ce-1",
        "source": "/shop",
        "type": "order.placed",
        "subject": customer,
        "time": datetime.now(UTC).isoformat(),
        "data": {"amount": 3},
    }
    one = await ingest.post("/v1/events", content=json.dumps(cloud), headers={"Content-Type": CLOUDEVENT})
    assert one.status_code == 202, one.text
    many = [cloud | {"id": "ce-2"}, cloud | {"id": "ce-3", "data": {}}]
    batch = await ingest.post("/v1/events/batch", content=json.dumps(many), headers={"Content-Type": CLOUDEVENT_BATCH})
    assert batch.json() == {"accepted": 2}
    published = await published_for(infra, customer)
    assert [(e.event_id, e.event_type, e.properties) for e in published] == [
        ("ce-1", "order.placed", {"amount": 3}),
        ("ce-2", "order.placed", {"amount": 3}),
        ("ce-3", "order.placed", {}),
    ]


async def test_gzip_bodies_and_the_size_limit(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    body = json.dumps({"events": [event(customer, str(i)) for i in range(50)]}).encode()
    zipped = await ingest.post("/v1/events/batch", content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert zipped.json() == {"accepted": 50}
    assert len(await published_for(infra, customer)) == 50
    huge = json.dumps({"events": [event(customer, "x", properties={"p": "y" * 8000})] * 140}).encode()
    too_large = await ingest.post("/v1/events/batch", content=gzip.compress(huge), headers={"Content-Encoding": "gzip"})
    assert too_large.status_code == 413
    assert (await ingest.post("/v1/events", content=b"{}", headers={"Content-Type": "text/plain"})).status_code == 415
    assert (await ingest.post("/v1/events", content=b"{}", headers={"Content-Encoding": "br"})).status_code == 415


async def test_validate_only_checks(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    response = await ingest.post("/v1/events/validate", json={"events": [event(customer, "a")]})
    assert response.json() == {"valid": 1}
    assert (await ingest.post("/v1/events/validate", json={"events": [event(customer, "")]})).status_code == 422
    assert await published_for(infra, customer) == []


async def test_429_past_the_in_flight_limit(infra: Infra) -> None:
    settings = IngestSettings(
        kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key, max_in_flight=1
    )
    app = create_app(settings)
    async with serving(app, "http://ingest", api_key=infra.api_key) as client:
        body = {"events": [event("acme", "1")]}
        with app.state.admission.admit():  # one request is in flight
            busy = await client.post("/v1/events/batch", json=body)
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "1"
        assert (await client.post("/v1/events/batch", json=body)).status_code == 202


CUSTOMERS = 30


def direct_event(customer: str) -> bytes:
    now = datetime.now(UTC)
    return encode_event(usage_recorded(f"direct-{customer}", customer, "api_call", now, source="/tests"))


async def keyed_by_aiokafka(bootstrap: str, customers: list[str]) -> dict[str, int]:
    """The partition aiokafka's own partitioner gives each customer's record, keyed by the customer id."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        sent = [await producer.send(USAGE_EVENTS, key=c.encode(), value=direct_event(c)) for c in customers]
        return {customer: (await ack).partition for customer, ack in zip(customers, sent, strict=True)}
    finally:
        await producer.stop()


def keyed_by_librdkafka(bootstrap: str, customers: list[str]) -> dict[str, int | None]:
    """The same with librdkafka (kcat's library) told to hash keys as Java clients do (its default differs)."""
    placed: dict[str, int | None] = {}

    def delivered(error: KafkaError | None, record: Message) -> None:
        assert error is None, error
        placed[(record.key() or b"").decode()] = record.partition()

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "partitioner": "murmur2_random"})
    for customer in customers:
        producer.produce(USAGE_EVENTS, key=customer.encode(), value=direct_event(customer), on_delivery=delivered)
    assert producer.flush(10) == 0
    return placed


async def test_each_customer_lands_in_order_where_a_keyed_producer_puts_it(
    ingest: httpx.AsyncClient, infra: Infra
) -> None:
    run = uuid4().hex[:8]
    customers = [f"part-{run}-{n}" for n in range(CUSTOMERS)]
    sent = [
        {"id": f"{run}-{n}", "customer_id": customers[n % CUSTOMERS], "type": "api_call", "properties": {"n": n}}
        for n in range(4 * CUSTOMERS)
    ]
    response = await ingest.post("/v1/events/batch", json={"events": sent})
    assert response.status_code == 202, response.text

    partitions: dict[str, set[int]] = defaultdict(set)
    order: dict[str, list[str]] = defaultdict(list)
    records_of_ours = 0
    for record in await consume_all(infra.kafka_bootstrap, USAGE_EVENTS):
        ours = [(customer, item) for customer, item in carried(record) if customer in customers]
        records_of_ours += bool(ours)
        for customer, item in ours:
            partitions[customer].add(record.partition)
            order[customer].append(item.event_id)
    assert order == {c: [e["id"] for e in sent if e["customer_id"] == c] for c in customers}
    assert all(len(found) == 1 for found in partitions.values())
    placed = {customer: found.pop() for customer, found in partitions.items()}
    assert records_of_ours == len(set(placed.values())) > 1  # one record per partition, several partitions

    assert placed == await keyed_by_aiokafka(infra.kafka_bootstrap, customers)
    assert placed == await asyncio.to_thread(keyed_by_librdkafka, infra.kafka_bootstrap, customers)


def timed_requests(metrics: str, route: str, status: int) -> float:
    prefix = f'http_request_duration_seconds_count{{method="POST",route="{route}",status="{status}"}}'
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(prefix))


async def test_the_event_routes_answer_and_are_timed_as_every_route(ingest: httpx.AsyncClient) -> None:
    """They are served around FastAPI's routing (events/fast_path.py): the same answers, problem+json included,
    and the same metrics under their route templates."""
    before = (await ingest.get("/metrics")).text
    accepted = await ingest.post("/v1/events", json=event(f"fast-{uuid4().hex[:8]}", uuid4().hex))
    refused = await ingest.post(
        "/v1/events/batch", json={"events": [event("acme", "x")]}, headers={"Authorization": ""}
    )
    checked = await ingest.post("/v1/events/validate", json={"events": [event("acme", "x", type="9bad")]})
    after = (await ingest.get("/metrics")).text

    assert (accepted.status_code, accepted.json()) == (202, {"accepted": 1})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["instance"] == "/v1/events/batch"
    assert checked.status_code == 422 and checked.json()["errors"][0]["field"].endswith("type")
    for route, status in (("/v1/events", 202), ("/v1/events/batch", 401), ("/v1/events/validate", 422)):
        assert timed_requests(after, route, status) == timed_requests(before, route, status) + 1, route
