"""max, unique_count and latest meters, filters and group_by, on the real broker and Postgres: kept by the consumer
across batches, backfilled for new meters, and read back by the usage report."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from billing.config import BillingSettings
from contracts.billing import MeterCreatedEvent
from contracts.envelope import encode_event
from contracts.topics import BILLING_EVENTS, USAGE_EVENTS
from contracts.usage import usage_recorded
from tally_stack.testing import consume_all, eventually, produce

pytestmark = pytest.mark.usefixtures("billing_worker")
DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
THREE_DAYS = (DAY1, DAY1 + timedelta(days=3))


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAY1 + timedelta(days=day - 1, hours=hour, minutes=minute)


def usage(event_id: str, customer: str, event_type: str, when: datetime, **properties: Any) -> tuple[bytes, bytes]:
    event = usage_recorded(event_id, customer, event_type, when, properties=properties, source="test")
    return customer.encode(), encode_event(event)


async def send(settings: BillingSettings, records: Sequence[tuple[bytes, bytes]]) -> None:
    await produce(settings.kafka_bootstrap_servers, USAGE_EVENTS, records)


async def create_meter(api: httpx.AsyncClient, event_type: str, aggregation: str, **fields: Any) -> str:
    key = unique(aggregation)
    response = await api.post(
        "/v1/meters", json={"key": key, "event_type": event_type, "aggregation": aggregation, **fields}
    )
    assert response.status_code == 201, response.text
    return key


async def report(api: httpx.AsyncClient, customer: str, meter: str, window: tuple[datetime, datetime]) -> Any:
    params = {"meter": meter, "from": window[0].isoformat(), "to": window[1].isoformat()}
    response = await api.get(f"/v1/customers/{customer}/usage", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def totals(api: httpx.AsyncClient, customer: str, meter: str) -> tuple[Any, list[Any]]:
    body = await report(api, customer, meter, THREE_DAYS)
    return body["total"], [day["value"] for day in body["daily"]]


async def test_max_unique_count_and_latest_over_several_days_and_batches(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("session"), unique("acme")
    peak = await create_meter(billing_api, event_type, "max", property="tokens")
    users = await create_meter(billing_api, event_type, "unique_count", property="user")
    seats = await create_meter(billing_api, event_type, "latest", property="seats")
    first = [
        usage("a1", customer, event_type, at(1, 10), tokens=30, user="ann", seats=5),
        usage("a2", customer, event_type, at(1, 9), tokens=12.5, user="bob", seats=7),  # earlier: not the latest
        usage("a3", customer, event_type, at(1, 11), tokens="999", user="ann", seats="99"),  # strings: no number
        usage("b1", customer, event_type, at(2, 8), tokens=50, user="bob", seats=1),
        usage("b2", customer, event_type, at(2, 8), tokens=-3, user=1, seats=2),  # same time: the greater id wins
        usage("c1", customer, event_type, at(3, 12), tokens=10, user=1.0, seats=4),  # 1.0 is the value 1 again
        usage("a1", customer, event_type, at(1, 10), tokens=30, user="ann", seats=5),  # resent: once
    ]
    await send(billing_settings, first)

    async def first_batch_kept() -> None:
        assert await totals(billing_api, customer, seats) == (4, [5, 2, 4])

    await eventually(first_batch_kept)
    assert await totals(billing_api, customer, peak) == (50, [30, 50, 10])
    assert await totals(billing_api, customer, users) == (3, [2, 2, 1])  # ann, bob, 1: each once over the period

    later = [  # arrives after the first batch is kept: merged into the kept days, never added twice
        usage("c0", customer, event_type, at(3, 8), tokens=70, user="1", seats=9),  # earlier than c1; "1" is not 1
        usage("a4", customer, event_type, at(1, 23, 59), tokens=1, user="cid", seats=6),  # the 1st's new latest
        usage("b1", customer, event_type, at(2, 8), tokens=50, user="bob", seats=1),  # resent: once
    ]
    await send(billing_settings, later)

    async def merged() -> None:
        assert await totals(billing_api, customer, users) == (5, [3, 2, 2])

    await eventually(merged)
    assert await totals(billing_api, customer, seats) == (4, [6, 2, 4])
    assert await totals(billing_api, customer, peak) == (70, [30, 50, 70])


async def test_filters_and_group_by(billing_api: httpx.AsyncClient, billing_settings: BillingSettings) -> None:
    event_type, customer = unique("ai_request"), unique("acme")
    eu_calls = await create_meter(billing_api, event_type, "count", filters={"region": "eu", "cached": False})
    tokens = await create_meter(billing_api, event_type, "sum", property="tokens", group_by="model")
    people = await create_meter(billing_api, event_type, "unique_count", property="user", group_by="model")
    await send(
        billing_settings,
        [
            usage("e1", customer, event_type, at(1, 1), region="eu", cached=False, model="large", tokens=10, user="u1"),
            usage("e2", customer, event_type, at(1, 2), region="eu", cached=True, model="large", tokens=5, user="u2"),
            usage("e3", customer, event_type, at(2, 3), region="us", cached=False, model="small", tokens=2, user="u1"),
            usage("e4", customer, event_type, at(2, 4), region="eu", cached=False, model=7, tokens=1.5, user="u1"),
            usage("e5", customer, event_type, at(3, 5), region="eu", cached=False, tokens=4, user="u3"),  # no model
            usage("e6", customer, event_type, at(3, 6), region="eu", cached=0, model="large", tokens=3, user="u1"),
        ],
    )

    async def counted() -> None:
        assert await totals(billing_api, customer, eu_calls) == (3, [1, 1, 1])  # e1, e4, e5 (0 is not false)

    await eventually(counted)
    body = await report(billing_api, customer, tokens, THREE_DAYS)
    assert (body["total"], [d["value"] for d in body["daily"]]) == (25.5, [15, 3.5, 7])
    assert body["groups"] == [
        {"group": "", "total": 4},
        {"group": "7", "total": 1.5},
        {"group": "large", "total": 18},
        {"group": "small", "total": 2},
    ]
    body = await report(billing_api, customer, people, THREE_DAYS)
    assert body["total"] == 3  # u1, u2, u3 whatever their group
    assert body["groups"] == [
        {"group": "", "total": 1},
        {"group": "7", "total": 1},
        {"group": "large", "total": 2},
        {"group": "small", "total": 1},
    ]
    assert (await report(billing_api, customer, eu_calls, THREE_DAYS))["groups"] is None


async def test_new_meters_of_each_kind_count_earlier_usage(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    event_type, customer = unique("export"), unique("initech")
    records = [
        usage(f"x{i}", customer, event_type, at(1 + i % 3, 23 - i), rows=10 * i, fmt="csv" if i % 2 else "pdf")
        for i in range(6)  # x0 pdf day 1 23:00 ... x5 csv day 3 18:00
    ]
    await send(billing_settings, [*records, records[0], records[5]])  # two resent
    sentinel = unique("sentinel")  # once its meter counts it, the earlier records were consumed too
    await send(billing_settings, [usage("s", customer, sentinel, DAY1)])
    probe = await create_meter(billing_api, sentinel, "count")

    async def sentinel_counted() -> None:
        assert (await report(billing_api, customer, probe, THREE_DAYS))["total"] == 1

    await eventually(sentinel_counted)
    csv = await create_meter(billing_api, event_type, "count", filters={"fmt": "csv"})
    rows = await create_meter(billing_api, event_type, "sum", property="rows", group_by="fmt")
    peak = await create_meter(billing_api, event_type, "max", property="rows")
    formats = await create_meter(billing_api, event_type, "unique_count", property="fmt")
    last = await create_meter(billing_api, event_type, "latest", property="rows")
    # Days: 1 -> x0 (0, pdf, 23:00), x3 (30, csv, 20:00); 2 -> x1 (10, csv), x4 (40, pdf); 3 -> x2 (20, pdf, 21:00),
    # x5 (50, csv, 18:00).
    assert await totals(billing_api, customer, csv) == (3, [1, 1, 1])
    assert await totals(billing_api, customer, rows) == (150, [30, 50, 70])
    grouped = (await report(billing_api, customer, rows, THREE_DAYS))["groups"]
    assert grouped == [{"group": "csv", "total": 90}, {"group": "pdf", "total": 60}]
    assert await totals(billing_api, customer, peak) == (50, [30, 40, 50])
    assert await totals(billing_api, customer, formats) == (2, [2, 2, 2])
    assert await totals(billing_api, customer, last) == (20, [0, 10, 20])


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"aggregation": "max"}, "body.property", "required when aggregation is max"),
        ({"aggregation": "unique_count"}, "body.property", "required when aggregation is unique_count"),
        ({"aggregation": "latest"}, "body.property", "required when aggregation is latest"),
        ({"aggregation": "sum"}, "body.property", "required when aggregation is sum"),
        ({"aggregation": "count", "property": "x"}, "body.property", "not allowed when aggregation is count"),
        ({"aggregation": "count", "filters": {"model": None}}, "body.filters.model", "must be a string"),
        ({"aggregation": "count", "filters": {"model": ["a"]}}, "body.filters.model", "must be a string"),
        ({"aggregation": "count", "filters": {"model": {"a": 1}}}, "body.filters.model", "must be a string"),
        ({"aggregation": "count", "filters": {"": 1}}, "body.filters..[key]", "at least 1 character"),
        ({"aggregation": "count", "filters": "model=large"}, "body.filters", "valid dictionary"),
        ({"aggregation": "count", "group_by": ""}, "body.group_by", "at least 1 character"),
        ({"aggregation": "count", "group_by": 3}, "body.group_by", "valid string"),
        ({"aggregation": "median", "property": "x"}, "body.aggregation", "'count', 'sum', 'max'"),
    ],
)
async def test_invalid_meters_get_422_naming_the_field(
    billing_api: httpx.AsyncClient, body: dict[str, Any], field: str, reason: str
) -> None:
    response = await billing_api.post("/v1/meters", json={"key": unique("bad"), "event_type": "x", **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert reason in errors[0]["reason"]


async def test_filters_and_group_by_are_kept_and_announced(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings
) -> None:
    filters = {"model": "large", "cached": False, "tier": 2, "ratio": 0.5}
    key = await create_meter(billing_api, unique("ai"), "latest", property="seats", filters=filters, group_by="team")
    [meter] = [
        m for m in (await billing_api.get("/v1/meters", params={"limit": 200})).json()["data"] if m["key"] == key
    ]
    assert (meter["aggregation"], meter["filters"], meter["group_by"]) == ("latest", filters, "team")
    assert (await billing_api.get(f"/v1/meters/{meter['id']}")).json() == meter

    async def announced() -> MeterCreatedEvent:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        [record] = [r for r in records if r.key == meter["id"].encode()]
        return MeterCreatedEvent.model_validate_json(record.value)

    event = (await eventually(announced)).data
    assert (event.aggregation, event.property, event.filters, event.group_by) == ("latest", "seats", filters, "team")
    assert type(event.filters["cached"]) is bool and type(event.filters["tier"]) is int
