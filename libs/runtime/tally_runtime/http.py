"""The FastAPI app every service's `api` process serves: probes, metrics, problem+json, tracing."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST

from tally_runtime.metrics import HttpMetricsMiddleware, exposition
from tally_runtime.problems import Problem, install_problem_handlers, problem_response
from tally_runtime.trace_context import TraceContextMiddleware
from tally_runtime.tracing import tracing_records

ReadinessCheck = Callable[[], Awaitable[object]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
READINESS_TIMEOUT_S = 2.0

log = logging.getLogger(__name__)


async def _run_check(name: str, check: ReadinessCheck) -> str | None:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_S)
    except Exception as exc:
        log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
        return f"{name}: {type(exc).__name__}: {exc}"[:300]
    return None


def create_api(
    title: str,
    *,
    lifespan: Lifespan,
    readiness: Callable[[FastAPI], Mapping[str, ReadinessCheck]],
) -> FastAPI:
    """`readiness(app)` names the dependencies (database, broker) that /readyz must reach."""
    app = FastAPIOffline(title=title, lifespan=lifespan)  # /docs and /redoc load nothing from a CDN
    install_problem_handlers(app)
    app.add_middleware(HttpMetricsMiddleware)
    if tracing_records():
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
        )
    else:
        app.add_middleware(TraceContextMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Any:
        checks = readiness(request.app)
        failures = [f for f in await asyncio.gather(*(_run_check(n, c) for n, c in checks.items())) if f]
        if failures:
            return problem_response(request, Problem(503, "; ".join(failures), title="Not ready"))
        return JSONResponse({"status": "ready", "checks": sorted(checks)})

    return app
