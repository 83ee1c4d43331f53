"""People through the real processes: the first admin logs in to the real gateway, changes billing through it (a
cookie write with its CSRF token), sees the dashboard gathered from the real services, and watches billing's event
about that change arrive on the live stream."""

import asyncio
import json
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from tally_stack.system import System

pytestmark = pytest.mark.e2e
PANELS = {"kpis", "mrr_bridge", "revenue_by_plan", "at_risk_customers", "alerts", "usage_by_feature", "recent_invoices"}


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            yield dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line and not line.startswith(":"))


async def test_an_admin_logs_in_changes_billing_and_sees_it_live(system: System) -> None:
    stack = system.stack
    async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as browser:
        login = await browser.post(
            "/v1/auth/login", json={"email": stack.admin_email, "password": stack.admin_password}
        )
        assert login.status_code == 200, login.text
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        external_id = f"e2e-people-{uuid4().hex[:8]}"
        async with browser.stream("GET", "/v1/stream") as live:
            assert live.status_code == 200
            events = frames(live)
            customer = {"external_id": external_id, "name": "Live Co", "currency": "EUR"}
            refused = await browser.post("/v1/customers", json=customer)
            assert refused.status_code == 403  # no CSRF token: billing never sees it
            created = await browser.post("/v1/customers", json=customer, headers=csrf)
            assert created.status_code == 201, created.text

            async def announced() -> dict[str, str]:
                async for event in events:
                    if event.get("event") == "tally.customer.created" and external_id in event.get("data", ""):
                        return event
                raise AssertionError("the stream ended")

            event = await asyncio.wait_for(announced(), 60)
        assert json.loads(event["data"])["subject"] == created.json()["id"]

        dashboard = await browser.get("/v1/dashboard")
        assert dashboard.status_code == 200
        panels = dashboard.json()["panels"]
        assert set(panels) == PANELS
        assert panels["recent_invoices"]["status"] == "ok"
        assert set(panels["recent_invoices"]["data"]) >= {"data", "next_cursor"}
        assert all(panel["status"] in {"ok", "unavailable", "error", "timeout"} for panel in panels.values())
        assert all((panel["status"] == "ok") == (panel["detail"] is None) for panel in panels.values())

        audit = await browser.get("/v1/audit", params={"limit": 20})
        writes = [(entry["method"], entry["path"], entry["status"]) for entry in audit.json()["data"]]
        assert ("POST", "/v1/customers", 201) in writes
        assert ("POST", "/v1/customers", 403) in writes
        assert (await browser.post("/v1/auth/logout", headers=csrf)).status_code == 204
        assert (await browser.get("/v1/dashboard")).status_code == 401
