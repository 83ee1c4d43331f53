"""The event routes' POSTs served around FastAPI's routing, dependency and exception layers.

Those layers were about 40% of a single event's request (CPU per validate-only request, on a slow VM: 525 us through
them, 310 us around them). The handlers are the router's own functions, which read the
request and build their answer themselves, so /openapi.json still documents them and both ways give the same
answers: a Problem becomes problem+json here as it does through FastAPI's handlers, and each request is timed under
its route template and runs in its caller's trace context, as the service's middleware would do.

Installed only while this process records no spans: with tracing on, every request takes FastAPI's instrumented
way and gets its span."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter
from starlette.types import ASGIApp, Receive, Scope, Send
from tally_runtime.metrics import HttpMetricsMiddleware
from tally_runtime.problems import Problem, problem_response
from tally_runtime.trace_context import TraceContextMiddleware

Handler = Callable[[Request], Awaitable[Response]]


class EventRoutesFastPath:
    """ASGI middleware: POSTs to `router`'s routes go straight to their handlers; everything else to `app`."""

    def __init__(self, app: ASGIApp, router: APIRouter) -> None:
        self.app = app
        self.routes = {
            route.path: route
            for route in router.routes
            if isinstance(route, APIRoute) and "POST" in (route.methods or ())
        }
        self.timed = HttpMetricsMiddleware(TraceContextMiddleware(self._handle))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        await self.timed(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        handler: Handler = scope["route"].endpoint
        try:
            response = await handler(request)
        except Problem as problem:
            response = problem_response(request, problem)
        await response(scope, receive, send)
