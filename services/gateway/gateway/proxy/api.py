"""The forwarded routes, built from the table in proxy/routes.py: each authenticated for its permission, then
passed to its service (GET also streams `text/csv` when the caller asks for it)."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request, Response

from gateway.access.dependencies import require
from gateway.config import GatewaySettings
from gateway.proxy.forward import forward
from gateway.proxy.routes import ROUTES, Route, Upstream

ANY_JSON: dict[str, Any] = {"schema": {}}
SERVICE_NAMES: dict[Upstream, str] = {
    "billing": "billing",
    "ingest": "usage-ingest",
    "analytics": "analytics",
    "assistant": "assistant",
}


def upstream_url(settings: GatewaySettings, upstream: Upstream) -> str:
    urls: dict[Upstream, str] = {
        "billing": settings.billing_url,
        "ingest": settings.ingest_url,
        "analytics": settings.analytics_url,
        "assistant": settings.assistant_url,
    }
    return urls[upstream]


def _forwarder(upstream: Upstream) -> Callable[[Request], Awaitable[Response]]:
    async def forward_to_service(request: Request) -> Response:
        settings: GatewaySettings = request.app.state.settings
        http: httpx.AsyncClient = request.app.state.http
        url = upstream_url(settings, upstream)
        return await forward(request, http, url, SERVICE_NAMES[upstream], settings.service_key())

    forward_to_service.__name__ = f"forward_to_{upstream}"
    return forward_to_service


def _openapi(route: Route) -> dict[str, Any]:
    """Coarse: the path and query parameters as strings, any JSON body, any JSON (or CSV) answer."""
    path_params = re.findall(r"{(\w+)}", route.path)
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
    parameters += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in route.query]
    extra: dict[str, Any] = {"parameters": parameters}
    if route.method != "GET":
        extra["requestBody"] = {"required": False, "content": {"application/json": ANY_JSON}}
    return extra


def _responses(route: Route) -> dict[int | str, dict[str, Any]]:
    content = {"application/json": ANY_JSON}
    if route.method == "GET":
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"2XX": {"description": f"The {SERVICE_NAMES[route.upstream]} service's answer", "content": content}}


def build_router(routes: tuple[Route, ...] = ROUTES) -> APIRouter:
    router = APIRouter()
    for route in routes:
        dependencies = [] if route.permission is None else [Depends(require(route.permission))]
        router.add_api_route(
            route.path,
            _forwarder(route.upstream),
            methods=[route.method],
            tags=[route.tag],
            dependencies=dependencies,
            openapi_extra=_openapi(route),
            responses=_responses(route),
            name=f"{route.method} {route.path}",
            summary=f"{route.method} {route.path}",
            description=f"Forwarded to {SERVICE_NAMES[route.upstream]}; needs `{route.permission or 'nothing'}`.",
        )
    return router
