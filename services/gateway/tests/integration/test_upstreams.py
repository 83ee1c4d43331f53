"""What the gateway sends to a service and relays back, and the dashboard over slow and dead services. The
service here is a real HTTP server on loopback (`upstream`), so the gateway's side can be observed exactly."""

import time
from collections.abc import Callable
from typing import Any

from gateway.config import GatewaySettings
from tally_stack.procs import free_port
from tally_stack.testing import Infra

PANELS = {"kpis", "mrr_bridge", "revenue_by_plan", "at_risk_customers", "alerts", "usage_by_feature", "recent_invoices"}
NOT_YET = {"at_risk_customers", "alerts"}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_forwarding_passes_ids_and_accept_and_swaps_the_credentials(
    own_gateway: Callable[..., Any], upstream: Any, infra: Infra, gateway_settings: GatewaySettings
) -> None:
    async with own_gateway(analytics_url=upstream.base_url) as gateway:
        headers = bearer(infra.api_key) | {"X-Request-Id": "trace-me-1", "traceparent": TRACEPARENT}
        response = await gateway.get(
            "/v1/metrics/mrr", params={"from": "2026-01", "to": "2026-11"}, headers=headers | {"Cookie": "a=b"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "trace-me-1"
    [seen] = upstream.seen
    assert (seen["method"], seen["path"], seen["query"]) == (
        "GET",
        "/v1/metrics/mrr",
        {"from": "2026-01", "to": "2026-11"},
    )
    sent = {name.lower(): value for name, value in seen["headers"].items()}
    assert sent["x-request-id"] == "trace-me-1"
    assert sent["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]  # the same trace
    assert sent["authorization"] == f"Bearer {gateway_settings.service_key()}"
    assert "cookie" not in sent


async def test_csv_exports_stream_through(own_gateway: Callable[..., Any], upstream: Any, infra: Infra) -> None:
    async with own_gateway(analytics_url=upstream.base_url) as gateway:
        response = await gateway.get("/v1/metrics/mrr", headers=bearer(infra.api_key) | {"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv"
    assert response.text == "month,mrr\r\n2026-10,100\r\n2026-11,120\r\n"


async def test_a_user_reaches_a_service_with_the_gateways_key(
    own_gateway: Callable[..., Any], upstream: Any, new_user: Any, gateway_settings: GatewaySettings
) -> None:
    person = await new_user("analyst")
    async with own_gateway(analytics_url=upstream.base_url) as gateway:
        token = (await gateway.post("/v1/auth/token", json={"email": person.email, "password": person.password})).json()
        body = {"steps": ["signup", "activate"], "window_days": 7}
        response = await gateway.post("/v1/funnels/query", json=body, headers=bearer(token["access_token"]))
    assert response.status_code == 200
    [seen] = upstream.seen
    assert seen["body"] == response.request.content
    assert seen["headers"]["Authorization"] == f"Bearer {gateway_settings.service_key()}"


async def test_the_dashboard_says_which_panels_are_missing_and_why(
    own_gateway: Callable[..., Any], upstream: Any, infra: Infra
) -> None:
    upstream.answers["/v1/invoices"] = (200, {"data": [{"id": "inv_1"}], "next_cursor": None})
    upstream.answers["/v1/metrics/summary"] = (200, {"mrr": {"value": 1200}})
    upstream.answers["/v1/metrics/revenue"] = (500, {"detail": "boom"})
    async with own_gateway(analytics_url=upstream.base_url, billing_url=upstream.base_url) as gateway:
        response = await gateway.get("/v1/dashboard", headers=bearer(infra.api_key))
    assert response.status_code == 200
    body = response.json()
    panels = body["panels"]
    assert set(panels) == PANELS
    assert panels["recent_invoices"] == {
        "status": "ok",
        "data": {"data": [{"id": "inv_1"}], "next_cursor": None},
        "detail": None,
    }
    assert panels["kpis"]["data"] == {"mrr": {"value": 1200}}
    for later in NOT_YET:
        assert panels[later]["status"] == "unavailable"
        assert "issue" in panels[later]["detail"]
    assert (panels["revenue_by_plan"]["status"], panels["revenue_by_plan"]["detail"]) == (
        "error",
        "analytics answered 500",
    )
    calls = {seen["path"]: seen for seen in upstream.seen}
    assert not {"/v1/customers/at-risk", "/v1/alerts"} & set(calls)  # not served yet: not asked
    assert calls["/v1/invoices"]["query"] == {"limit": "10"}
    assert calls["/v1/metrics/revenue"]["query"] == {"group_by": "plan"}
    months = calls["/v1/metrics/mrr"]["query"]
    assert set(months) == {"from", "to"}
    assert (int(months["to"][:4]) * 12 + int(months["to"][5:])) - (
        int(months["from"][:4]) * 12 + int(months["from"][5:])
    ) == 11
    assert body["generated_at"].endswith("Z") or "+00:00" in body["generated_at"]


async def test_a_dead_service_makes_its_panels_unavailable_quickly(
    own_gateway: Callable[..., Any], upstream: Any, infra: Infra
) -> None:
    upstream.answers["/v1/invoices"] = (200, {"data": [], "next_cursor": None})
    dead = f"http://127.0.0.1:{free_port()}"
    settings = {"analytics_url": dead, "billing_url": upstream.base_url, "dashboard_panel_timeout_s": 10.0}
    async with own_gateway(**settings) as gateway:
        started = time.monotonic()
        response = await gateway.get("/v1/dashboard", headers=bearer(infra.api_key))
        elapsed = time.monotonic() - started
    panels = response.json()["panels"]
    assert panels["recent_invoices"]["status"] == "ok"
    assert {name for name, panel in panels.items() if panel["status"] == "unavailable"} == PANELS - {"recent_invoices"}
    assert all("unreachable" in panels[name]["detail"] for name in PANELS - {"recent_invoices"} - NOT_YET)
    assert elapsed < 10.0  # refused at once: nothing waited for the panels' timeout


async def test_a_slow_service_times_out_its_panels_within_the_budget(
    own_gateway: Callable[..., Any], upstream: Any, infra: Infra
) -> None:
    for path in ("/v1/metrics/summary", "/v1/metrics/mrr", "/v1/metrics/revenue", "/v1/usage/features"):
        upstream.delays[path] = 5.0
    upstream.answers["/v1/invoices"] = (200, {"data": [], "next_cursor": None})
    upstream.delays["/v1/invoices"] = 0.3
    settings = {
        "analytics_url": upstream.base_url,
        "billing_url": upstream.base_url,
        "dashboard_panel_timeout_s": 0.8,
        "dashboard_panel_timeouts": {"kpis": 0.4},
        "dashboard_budget_s": 1.2,
    }
    async with own_gateway(**settings) as gateway:
        started = time.monotonic()
        response = await gateway.get("/v1/dashboard", headers=bearer(infra.api_key))
        elapsed = time.monotonic() - started
    panels = response.json()["panels"]
    assert panels["recent_invoices"]["status"] == "ok"  # slower than nothing, faster than its timeout
    assert panels["kpis"] == {"status": "timeout", "data": None, "detail": "analytics did not answer within 0.4 s"}
    for name in ("mrr_bridge", "revenue_by_plan", "usage_by_feature"):
        assert panels[name]["status"] == "timeout"
        assert panels[name]["detail"] == "analytics did not answer within 0.8 s"
    assert 0.75 < elapsed < 5.0  # waited for the panels' timeouts, not for the slow service


async def test_the_page_budget_bounds_even_long_panel_timeouts(
    own_gateway: Callable[..., Any], upstream: Any, infra: Infra
) -> None:
    upstream.delays["/v1/invoices"] = 5.0
    settings = {"billing_url": upstream.base_url, "dashboard_panel_timeout_s": 10.0, "dashboard_budget_s": 0.5}
    async with own_gateway(**settings) as gateway:
        started = time.monotonic()
        response = await gateway.get("/v1/dashboard", headers=bearer(infra.api_key))
        elapsed = time.monotonic() - started
    panel = response.json()["panels"]["recent_invoices"]
    assert panel == {"status": "timeout", "data": None, "detail": "over the page's budget of 0.5 s"}
    assert elapsed < 5.0  # the budget ended it, not the slow service or the panel's 10 s timeout
