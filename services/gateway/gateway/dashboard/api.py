from datetime import UTC, datetime

import aiohttp
from fastapi import APIRouter, Depends, Request
from opentelemetry.propagate import inject

from gateway.access.dependencies import require
from gateway.config import GatewaySettings
from gateway.dashboard.schemas import Dashboard, Panel, Panels
from gateway.dashboard.service import gather_panels
from gateway.proxy.forward import upstream_headers

router = APIRouter(tags=["dashboard"])


@router.get("/v1/dashboard", dependencies=[Depends(require("read"))])
async def dashboard(request: Request) -> Dashboard:
    """Every panel, gathered concurrently: a slow or dead service makes its panel say so (`timeout`,
    `unavailable`, `error`, with a `detail`), and the page still answers within the budget."""
    settings: GatewaySettings = request.app.state.settings
    http: aiohttp.ClientSession = request.app.state.panels_http
    headers = upstream_headers(request, settings.service_key())
    headers.pop("content-type", None)
    headers["accept"] = "application/json"
    inject(headers)  # the trace goes on (the caller's traceparent, or this request's span when tracing records)
    now = datetime.now(UTC)
    results = await gather_panels(http, settings, headers, now.date())
    panels = Panels(
        **{
            name: Panel(status=result.status, data=result.data, detail=result.detail)
            for name, result in results.items()
        }
    )
    return Dashboard(generated_at=now, panels=panels)
