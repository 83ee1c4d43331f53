"""The README's first flow, through the real processes: post usage to ingest, read it on the gateway."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from tally_stack.system import System
from tally_stack.testing import eventually

pytestmark = pytest.mark.e2e


async def test_posted_usage_is_visible_on_the_gateway(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    event_type, customer = f"api_call_{uuid4().hex[:8]}", f"acme-{uuid4().hex[:6]}"
    tokens = f"tokens_{uuid4().hex[:8]}"
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        meter = {"key": tokens, "event_type": event_type, "aggregation": "sum", "property": "tokens"}
        created = await http.post(f"{system.url('gateway')}/v1/meters", json=meter)
        assert created.status_code == 201, created.text
        assert created.json()["id"].startswith("mtr_")
        duplicate = await http.post(f"{system.url('gateway')}/v1/meters", json=meter)
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"] == "application/problem+json"

        batch = {
            "events": [
                {
                    "id": "evt-1",
                    "customer_id": customer,
                    "type": event_type,
                    "timestamp": "2026-11-01T12:00:00Z",
                    "properties": {"tokens": 120},
                }
            ]
        }
        posted = await http.post(f"{system.url('usage-ingest')}/v1/events/batch", json=batch)
        assert posted.status_code == 202
        assert posted.json() == {"accepted": 1}

        expected_total = 120

        async def visible() -> dict[str, Any]:
            params = {"meter": tokens, "from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}
            response = await http.get(f"{system.url('gateway')}/v1/customers/{customer}/usage", params=params)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert body["total"] == expected_total
            return body

        body = await eventually(visible, 120)
        assert body["daily"] == [{"date": "2026-11-01", "value": 120}]

        via_gateway = batch["events"][0] | {"id": "evt-2", "properties": {"tokens": 30}}
        assert (await http.post(f"{system.url('gateway')}/v1/events", json=via_gateway)).status_code == 202
        expected_total = 150
        await eventually(visible)

        unauthenticated = await http.get(f"{system.url('gateway')}/v1/meters", headers={"Authorization": ""})
        assert unauthenticated.status_code == 401


async def test_plans_are_managed_through_the_gateway_with_the_admin_scope(system: System) -> None:
    gateway = system.url("gateway")
    admin = {"Authorization": f"Bearer {system.stack.api_key}"}
    meter_key, plan_key = f"seats_{uuid4().hex[:8]}", f"team_{uuid4().hex[:8]}"
    plan = {
        "key": plan_key,
        "name": "Team",
        "currency": "EUR",
        "interval": "year",
        "base_price_minor": 99000,
        "charges": [{"meter": meter_key, "model": "package", "package_size": 10, "package_price_minor": 5000}],
    }
    async with httpx.AsyncClient(headers=admin, timeout=10) as http:
        meter = {"key": meter_key, "event_type": "seat.added", "aggregation": "count"}
        assert (await http.post(f"{gateway}/v1/meters", json=meter)).status_code == 201
        created = await http.post(f"{gateway}/v1/plans", json=plan)
        assert created.status_code == 201, created.text
        del plan["key"]
        changed = await http.post(f"{gateway}/v1/plans/{plan_key}/versions", json=plan | {"base_price_minor": 89000})
        assert changed.json()["version"] == 2
        versions = (await http.get(f"{gateway}/v1/plans/{plan_key}/versions")).json()
        assert [v["base_price_minor"] for v in versions] == [99000, 89000]
        issued = await http.post(f"{gateway}/v1/api-keys", json={"name": "reader", "scopes": ["read"]})
        reader = {"Authorization": f"Bearer {issued.json()['key']}"}
        assert (await http.get(f"{gateway}/v1/plans/{plan_key}", headers=reader)).status_code == 200
        refused = await http.post(f"{gateway}/v1/plans", json=plan | {"key": f"x_{plan_key}"}, headers=reader)
        assert refused.status_code == 403


async def test_a_customer_subscribes_and_sees_usage_on_the_upcoming_invoice(system: System) -> None:
    gateway = system.url("gateway")
    admin = {"Authorization": f"Bearer {system.stack.api_key}"}
    run = uuid4().hex[:8]
    meter_key, event_type, plan_key, external_id = f"calls_{run}", f"call_{run}", f"basic_{run}", f"acme-{run}"
    async with httpx.AsyncClient(headers=admin, timeout=10) as http:
        assert (
            await http.post(
                f"{gateway}/v1/meters", json={"key": meter_key, "event_type": event_type, "aggregation": "count"}
            )
        ).status_code == 201
        plan = {
            "key": plan_key,
            "name": "Basic",
            "currency": "USD",
            "interval": "month",
            "base_price_minor": 2900,
            "charges": [{"meter": meter_key, "model": "per_unit", "unit_price": "25", "included_units": "1"}],
            "entitlements": {meter_key: 10},
        }
        assert (await http.post(f"{gateway}/v1/plans", json=plan)).status_code == 201
        customer = await http.post(
            f"{gateway}/v1/customers", json={"external_id": external_id, "name": "Acme", "currency": "USD"}
        )
        assert customer.status_code == 201, customer.text
        subscribed = await http.post(
            f"{gateway}/v1/subscriptions", json={"customer_id": external_id, "plan_key": plan_key}
        )
        assert subscribed.status_code == 201, subscribed.text
        subscription = subscribed.json()
        events = [{"id": f"e{n}", "customer_id": external_id, "type": event_type} for n in range(3)]
        assert (await http.post(f"{gateway}/v1/events/batch", json={"events": events})).status_code == 202

        async def billed() -> dict[str, Any]:
            response = await http.get(f"{gateway}/v1/subscriptions/{subscription['id']}/upcoming-invoice")
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert [(line["quantity"], line["amount_minor"]) for line in body["lines"] if line["kind"] == "usage"] == [
                ("3", 50)
            ]
            return body

        upcoming = await eventually(billed, 60)
        assert upcoming["total_minor"] == 50 + 2900
        [first] = (await http.get(f"{gateway}/v1/invoices", params={"customer_id": external_id})).json()["data"]
        assert (first["status"] in ("draft", "finalized"), first["total_minor"]) == (True, 2900)
        entitlements = (await http.get(f"{gateway}/v1/customers/{external_id}/entitlements")).json()
        assert entitlements["limits"][0]["used"] == "3"
