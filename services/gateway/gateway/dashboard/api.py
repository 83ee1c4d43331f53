from datetime import UTC, datetime

import aiohttp
import orjson
from fastapi import APIRouter, Depends, Request, Response
from opentelemetry.propagate import inject

from gateway.access.dependencies import require
from gateway.config import GatewaySettings
from gateway.dashboard.schemas import Dashboard
from gateway.dashboard.service import gather_panels
from gateway.proxy.forward import upstream_headers

router = APIRouter(tags=["dashboard"])


@router.get("/v1/dashboard", dependencies=[Depends(require("read"))], response_model=Dashboard)
async def dashboard(request: Request) -> Response:
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
    panels = {
        name: {"status": result.status, "data": result.data, "detail": result.detail}
        for name, result in results.items()
    }
    # The panels' JSON goes into the page as the services wrote it (see gather_panels): encoded here, not by FastAPI.
    page = orjson.dumps({"generated_at": now, "panels": panels}, option=orjson.OPT_UTC_Z)
    return Response(page, media_type="application/json")
