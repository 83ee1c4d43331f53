"""Entitlements: limits against the open period's usage, and the 80% / 100% marks announced once each, from usage
that arrives through Kafka."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from billing.config import BillingSettings
from contracts.envelope import encode_event
from contracts.registry import EVENT_TYPES
from contracts.topics import BILLING_EVENTS, USAGE_EVENTS
from contracts.usage import UsageBatchRecorded, UsageBatchRecordedEvent, UsageItem, usage_recorded
from tally_stack.testing import consume_all, eventually, produce

pytestmark = pytest.mark.usefixtures("billing_worker")


async def send_usage(settings: BillingSettings, customer_key: str, event_type: str, first: int, count: int) -> None:
    now = datetime.now(UTC)
    records = [
        (customer_key.encode(), encode_event(usage_recorded(f"u{n}", customer_key, event_type, now, source="test")))
        for n in range(first, first + count)
    ]
    await produce(settings.kafka_bootstrap_servers, USAGE_EVENTS, records)


async def marks(settings: BillingSettings, customer_id: str) -> list[int]:
    records = await consume_all(settings.kafka_bootstrap_servers, BILLING_EVENTS)
    return sorted(
        json.loads(r.value)["data"]["percent"]
        for r in records
        if r.key == customer_id.encode() and json.loads(r.value)["type"] == "tally.usage.threshold_reached"
    )


async def test_limits_count_the_open_period_and_each_mark_is_announced_once(
    kit: Any, billing_settings: BillingSettings
) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter, entitlements={meter: 5, "advanced_analytics": True})
    acme = await kit.customer()
    await kit.created("/v1/subscriptions", {"customer_id": acme["id"], "plan_key": plan})

    async def used() -> Any:
        return (await kit.api.get(f"/v1/customers/{acme['external_id']}/entitlements")).json()

    def seen(count: str, expected_marks: list[int]) -> Any:
        async def check() -> None:
            assert (await used())["limits"][0]["used"] == count
            assert await marks(billing_settings, acme["id"]) == expected_marks

        return check

    await send_usage(billing_settings, acme["external_id"], event_type, 0, 4)
    await eventually(seen("4", [80]))
    entitlements = await used()
    assert entitlements["limits"] == [
        {"meter": meter, "limit": 5, "used": "4", "remaining": "1", "percent_used": "80.00"}
    ]
    assert entitlements["features"] == {"advanced_analytics": True}

    await send_usage(billing_settings, acme["external_id"], event_type, 4, 3)  # 7 of 5, and a duplicate below
    await send_usage(billing_settings, acme["external_id"], event_type, 6, 1)
    await eventually(seen("7", [80, 100]))
    assert (await used())["limits"][0]["remaining"] == "0"
    by_our_id = (await kit.api.get(f"/v1/customers/{acme['id']}/usage", params={"meter": meter})).json()
    assert (by_our_id["customer_id"], by_our_id["total"]) == (acme["external_id"], 7)
    assert EVENT_TYPES["tally.usage.threshold_reached"].topic == BILLING_EVENTS


async def test_usage_named_inside_another_customers_batch_reaches_its_marks(
    kit: Any, billing_settings: BillingSettings
) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter, entitlements={meter: 5})
    acme = await kit.customer()
    await kit.created("/v1/subscriptions", {"customer_id": acme["id"], "plan_key": plan})
    first = f"other-{acme['external_id']}"  # the batch's own customer, without a subscription
    at = datetime.now(UTC)
    items = [UsageItem(event_id="o1", event_type=event_type, timestamp=at)] + [
        UsageItem(event_id=f"b{n}", event_type=event_type, timestamp=at, customer_id=acme["external_id"])
        for n in range(4)
    ]
    batch = UsageBatchRecordedEvent.of(
        "msg-1", UsageBatchRecorded(customer_id=first, events=items), source="t", time=at
    )
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, [(first.encode(), encode_event(batch))])

    async def announced() -> None:
        assert await marks(billing_settings, acme["id"]) == [80]

    await eventually(announced)


async def test_a_customer_without_a_subscription_has_no_limits(kit: Any) -> None:
    acme = await kit.customer()
    body = (await kit.api.get(f"/v1/customers/{acme['id']}/entitlements")).json()
    assert (body["limits"], body["features"], body["period_start"]) == ([], {}, None)
    assert (await kit.api.get("/v1/customers/cus_nobody/entitlements")).status_code == 404
