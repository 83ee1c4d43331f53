"""Usage events on the real broker become exact per-meter totals in the real Postgres."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest
from billing.config import BillingSettings
from billing.usage.repository import lock_meter_set, record_events
from contracts.billing import MeterCreatedEvent
from contracts.envelope import encode_event
from contracts.topics import BILLING_EVENTS, USAGE_EVENTS, dlq_topic
from contracts.usage import usage_recorded
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.testing import consume_all, eventually, produce

pytestmark = pytest.mark.usefixtures("billing_worker")
DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
PLUS_2 = timezone(timedelta(hours=2))


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


def usage(event_id: str, customer: str, event_type: str, at: datetime, **properties: Any) -> tuple[bytes, bytes]:
    event = usage_recorded(event_id, customer, event_type, at, properties=properties, source="test")
    return customer.encode(), encode_event(event)


async def create_meters(api: httpx.AsyncClient, event_type: str) -> tuple[str, str]:
    calls, tokens = unique("calls"), unique("tokens")
    for body in (
        {"key": calls, "event_type": event_type, "aggregation": "count"},
        {"key": tokens, "event_type": event_type, "aggregation": "sum", "property": "tokens"},
    ):
        response = await api.post("/v1/meters", json=body)
        assert response.status_code == 201, response.text
    return calls, tokens


async def report(api: httpx.AsyncClient, customer: str, meter: str, start: datetime, end: datetime) -> Any:
    params = {"meter": meter, "from": start.isoformat(), "to": end.isoformat()}
    response = await api.get(f"/v1/customers/{customer}/usage", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_totals_count_each_event_once_per_utc_day(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("api_call"), unique("acme")
    calls, tokens = await create_meters(billing_api, event_type)
    records = [
        usage("e1", customer, event_type, DAY1 + timedelta(hours=1), tokens=100),
        usage("e2", customer, event_type, DAY1 + timedelta(hours=23, minutes=59), tokens=20.5),
        usage("e3", customer, event_type, DAY1 + timedelta(days=1, hours=2), tokens=7),
        usage("e1", customer, event_type, DAY1 + timedelta(hours=1), tokens=100),  # resent: counted once
        usage("other", unique("globex"), event_type, DAY1, tokens=1000),
        usage("e4", customer, event_type, datetime(2026, 11, 2, 0, 30, tzinfo=PLUS_2), tokens=0.1),  # the 1st, UTC
        usage("e5", customer, event_type, DAY1 + timedelta(days=1), tokens=0.1),
        usage("e6", customer, event_type, DAY1 + timedelta(days=1), tokens=0.1),
        usage("e7", customer, event_type, DAY1 + timedelta(days=1), tokens="12"),  # counted, but adds no tokens
        usage("e8", customer, event_type, DAY1 + timedelta(days=1), tokens=True),
    ]
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, records)

    async def totals_are_right() -> None:
        body = await report(billing_api, customer, tokens, DAY1, DAY1 + timedelta(days=3))
        assert body["total"] == 127.8  # exact: 0.1 three times is 0.3
        assert body["daily"] == [
            {"date": "2026-11-01", "value": 120.6},
            {"date": "2026-11-02", "value": 7.2},
            {"date": "2026-11-03", "value": 0},
        ]

    await eventually(totals_are_right)
    body = await report(billing_api, customer, calls, DAY1, DAY1 + timedelta(days=3))
    assert body["total"] == 8
    assert (body["customer_id"], body["meter"], body["from"]) == (customer, calls, "2026-11-01T00:00:00Z")


async def test_partial_days_are_read_from_the_events(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("api_call"), unique("acme")
    _, tokens = await create_meters(billing_api, event_type)
    hours = [1, 5, 11, 13, 30]  # the 1st at 01:00, 05:00, 11:00, 13:00 and the 2nd at 06:00
    records = [usage(f"e{h}", customer, event_type, DAY1 + timedelta(hours=h), tokens=h) for h in hours]
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, records)

    async def window_is_exact() -> None:
        body = await report(billing_api, customer, tokens, DAY1 + timedelta(hours=5), DAY1 + timedelta(hours=30))
        assert body["total"] == 5 + 11 + 13  # 30 is the exclusive end
        assert [d["value"] for d in body["daily"]] == [29, 0]

    await eventually(window_is_exact)


async def test_a_meter_created_later_counts_earlier_usage(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("export"), unique("initech")
    records = [usage(f"x{i}", customer, event_type, DAY1 + timedelta(minutes=i), tokens=2) for i in range(5)]
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, records)
    sentinel = unique("sentinel")  # once its meter counts it, the earlier records were consumed too
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, [usage("s", customer, sentinel, DAY1)])
    probe = unique("probe")
    await billing_api.post("/v1/meters", json={"key": probe, "event_type": sentinel, "aggregation": "count"})

    async def sentinel_counted() -> None:
        assert (await report(billing_api, customer, probe, DAY1, DAY1 + timedelta(days=1)))["total"] == 1

    await eventually(sentinel_counted)
    _, tokens = await create_meters(billing_api, event_type)
    assert (await report(billing_api, customer, tokens, DAY1, DAY1 + timedelta(days=1)))["total"] == 10


async def test_bad_messages_go_to_the_dlq_and_the_next_event_still_counts(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("api_call"), unique("acme")
    calls, _ = await create_meters(billing_api, event_type)
    marker = unique("poison").encode()
    _, valid = usage("ok", customer, event_type, DAY1)
    invalid = json.loads(valid)
    invalid["data"]["customer_id"] = ""
    await produce(
        billing_settings.kafka_bootstrap_servers,
        USAGE_EVENTS,
        [(marker, b"{not json"), (marker, json.dumps(invalid).encode()), (customer.encode(), valid)],
    )

    async def valid_event_counted() -> None:
        assert (await report(billing_api, customer, calls, DAY1, DAY1 + timedelta(days=1)))["total"] == 1

    await eventually(valid_event_counted)

    async def both_in_the_dlq() -> list[dict[str, str]]:
        dead = [r for r in await consume_all(billing_settings.kafka_bootstrap_servers, dlq_topic(USAGE_EVENTS))]
        # Only this worker's copies: the e2e system's billing worker (another group) may be consuming too.
        group = ("tally-dlq-consumer", billing_settings.consumer_group.encode())
        ours = [{k: v.decode() for k, v in r.headers} for r in dead if r.key == marker and group in r.headers]
        assert len(ours) == 2
        return ours

    headers = await eventually(both_in_the_dlq)
    assert all(h["tally-dlq-topic"] == USAGE_EVENTS for h in headers)
    reasons = sorted(h["tally-dlq-reason"] for h in headers)
    assert "json" in reasons[1].lower() or "json" in reasons[0].lower()
    assert any("customer_id" in reason for reason in reasons)


async def test_the_window_defaults_to_this_month_so_far(billing_api: httpx.AsyncClient) -> None:
    event_type = unique("api_call")
    calls, _ = await create_meters(billing_api, event_type)
    response = await billing_api.get(f"/v1/customers/{unique('acme')}/usage", params={"meter": calls})
    assert response.status_code == 200
    body = response.json()
    today = datetime.now(UTC).date()
    assert body["from"] == f"{today.replace(day=1).isoformat()}T00:00:00Z"
    assert body["daily"][-1] == {"date": today.isoformat(), "value": 0}
    assert len(body["daily"]) == today.day


async def test_bad_queries_get_problem_details(billing_api: httpx.AsyncClient) -> None:
    backwards = {"meter": "any", "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    response = await billing_api.get("/v1/customers/acme/usage", params=backwards)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "query.to", "reason": "not after from"}]
    unknown = await billing_api.get("/v1/customers/acme/usage", params={"meter": unique("nope")})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    invalid = await billing_api.post("/v1/meters", json={"key": "Bad Key", "event_type": "x", "aggregation": "sum"})
    assert invalid.status_code == 422
    fields = {error["field"] for error in invalid.json()["errors"]}
    assert "body.key" in fields


async def test_a_new_meter_is_announced_on_the_billing_topic(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    calls, _ = await create_meters(billing_api, unique("api_call"))
    meter = (await billing_api.get("/v1/meters", params={"limit": 200})).json()["data"]
    [created] = [m for m in meter if m["key"] == calls]

    async def announced() -> MeterCreatedEvent:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        [record] = [r for r in records if r.key == created["id"].encode()]
        return MeterCreatedEvent.model_validate_json(record.value)

    event = await eventually(announced)
    assert (event.data.key, event.data.aggregation, event.subject) == (calls, "count", created["id"])


async def test_batch_messages_count_each_event_once(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("api_call"), unique("acme")
    _, tokens = await create_meters(billing_api, event_type)
    items = [
        {"event_id": "b1", "event_type": event_type, "timestamp": "2026-11-01T01:00:00Z", "properties": {"tokens": 1}},
        {"event_id": "b2", "event_type": event_type, "timestamp": "2026-11-01T02:00:00Z", "properties": {"tokens": 2}},
        {"event_id": "b1", "event_type": event_type, "timestamp": "2026-11-01T01:00:00Z", "properties": {"tokens": 1}},
    ]
    batch = {
        "specversion": "1.0",
        "id": unique("msg"),
        "source": "test",
        "type": "tally.usage.batch_recorded",
        "subject": customer,
        "time": "2026-11-01T03:00:00Z",
        "data": {"customer_id": customer, "events": items},
    }
    resent_alone = usage("b2", customer, event_type, DAY1 + timedelta(hours=2), tokens=2)
    single = usage("s1", customer, event_type, DAY1 + timedelta(hours=4), tokens=4)
    await produce(
        billing_settings.kafka_bootstrap_servers,
        USAGE_EVENTS,
        [(customer.encode(), json.dumps(batch).encode()), resent_alone, single],
    )

    async def counted_once() -> None:
        assert (await report(billing_api, customer, tokens, DAY1, DAY1 + timedelta(days=1)))["total"] == 7

    await eventually(counted_once)


async def test_a_batch_of_several_customers_counts_each_event_for_its_own_customer(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, first, other = unique("api_call"), unique("acme"), unique("globex")
    _, tokens = await create_meters(billing_api, event_type)

    def item(event_id: str, tokens: int, customer: str | None = None) -> dict[str, Any]:
        named = {"customer_id": customer} if customer else {}
        at = "2026-11-01T01:00:00Z"
        return {
            "event_id": event_id,
            "event_type": event_type,
            "timestamp": at,
            "properties": {"tokens": tokens},
        } | named

    batch = {
        "specversion": "1.0",
        "id": unique("msg"),
        "source": "test",
        "type": "tally.usage.batch_recorded",
        "subject": first,
        "time": "2026-11-01T03:00:00Z",
        "data": {
            "customer_id": first,
            "events": [item("m1", 1), item("m1", 20, other), item("m2", 2, first), item("m2", 40, other)],
        },
    }
    resent_alone = usage("m2", other, event_type, DAY1 + timedelta(hours=1), tokens=40)
    await produce(
        billing_settings.kafka_bootstrap_servers,
        USAGE_EVENTS,
        [(first.encode(), json.dumps(batch).encode()), resent_alone],
    )

    async def each_counted_once_for_its_customer() -> None:
        totals = [
            (await report(billing_api, c, tokens, DAY1, DAY1 + timedelta(days=1)))["total"] for c in (first, other)
        ]
        assert totals == [3, 60]

    await eventually(each_counted_once_for_its_customer)


async def test_a_batch_with_events_seen_before_records_only_the_new_ones_first_copy_first(
    billing_api: httpx.AsyncClient, billing_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Both ways the consumer's insert takes: a batch of new events only, and one holding events seen before
    (in an earlier batch, or earlier in the same one), which is inserted again with each row checked first."""
    event_type, customer = unique("api_call"), unique("acme")
    calls, tokens = await create_meters(billing_api, event_type)
    at = DAY1 + timedelta(hours=3)

    async def record(*rows: tuple[str, int]) -> int:
        async with billing_sessions() as session, session.begin():
            await lock_meter_set(session, exclusive=False)
            return await record_events(session, [(customer, id_, event_type, at, {"tokens": n}) for id_, n in rows])

    assert await record(("a", 1), ("b", 2)) == 2
    assert await record(("b", 50), ("c", 4), ("c", 40), ("d", 8)) == 2

    window = (DAY1, DAY1 + timedelta(days=1))
    assert (await report(billing_api, customer, calls, *window))["total"] == 4
    assert (await report(billing_api, customer, tokens, *window))["total"] == 1 + 2 + 4 + 8
