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
