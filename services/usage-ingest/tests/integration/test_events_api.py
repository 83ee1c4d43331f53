"""The events API on the real broker: what it accepts is on the topic; what it refuses is not."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageRecordedEvent
from tally_stack.testing import Infra, consume_all


def event(customer: str, event_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": event_id,
        "customer_id": customer,
        "type": "api_call",
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {"tokens": 120},
    }
    return body | overrides


async def published_for(infra: Infra, customer: str) -> list[UsageRecordedEvent]:
    records = await consume_all(infra.kafka_bootstrap, USAGE_EVENTS)
    return [UsageRecordedEvent.model_validate_json(r.value) for r in records if r.key == customer.encode()]


async def test_batch_is_published_after_the_broker_acknowledges(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    response = await ingest.post("/v1/events/batch", json={"events": [event(customer, "a"), event(customer, "b")]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2}
    published = await published_for(infra, customer)
    assert [e.id for e in published] == ["a", "b"]
    assert published[0].data.properties == {"tokens": 120}
    assert published[0].subject == customer


async def test_single_event_defaults_its_timestamp_to_receipt(ingest: httpx.AsyncClient, infra: Infra) -> None:
    customer = f"acme-{uuid4().hex[:8]}"
    before = datetime.now(UTC)
    body = event(customer, "only")
    del body["timestamp"]
    assert (await ingest.post("/v1/events", json=body)).status_code == 202
    [published] = await published_for(infra, customer)
    assert before <= published.data.timestamp <= datetime.now(UTC)


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
