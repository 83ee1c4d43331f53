"""Gathering the panels: all at once, each bounded by its own timeout, the page by the total budget."""

import asyncio
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import httpx

from gateway.config import GatewaySettings
from gateway.dashboard.panels import PanelResult, PanelSource, from_answer, sources

SERVICE_NAMES = {"analytics": "analytics", "billing": "billing"}


def _decoded(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def _panel(
    http: httpx.AsyncClient, base_url: str, source: PanelSource, headers: Mapping[str, str], seconds: float
) -> PanelResult:
    service = SERVICE_NAMES[source.upstream]
    url = httpx.URL(base_url).join(source.path)
    try:
        async with asyncio.timeout(seconds):
            response = await http.get(url, params=source.params, headers=dict(headers), timeout=seconds)
    except (TimeoutError, httpx.TimeoutException):
        return PanelResult("timeout", None, f"{service} did not answer within {seconds:g} s")
    except httpx.TransportError as error:
        return PanelResult("unavailable", None, f"{service} is unreachable ({type(error).__name__})")
    return from_answer(source, service, response.status_code, _decoded(response))


async def gather_panels(
    http: httpx.AsyncClient, settings: GatewaySettings, headers: Mapping[str, str], today: date
) -> dict[str, PanelResult]:
    urls = {"analytics": settings.analytics_url, "billing": settings.billing_url}
    tasks = {
        name: asyncio.create_task(_panel(http, urls[source.upstream], source, headers, settings.panel_timeout(name)))
        for name, source in sources(today).items()
    }
    await asyncio.wait(tasks.values(), timeout=settings.dashboard_budget_s)
    results: dict[str, PanelResult] = {}
    for name, task in tasks.items():
        if task.done():
            results[name] = task.result()
        else:
            task.cancel()
            results[name] = PanelResult("timeout", None, f"over the page's budget of {settings.dashboard_budget_s:g} s")
    return results
