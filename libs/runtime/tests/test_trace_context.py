import httpx
from fastapi import FastAPI
from opentelemetry import trace
from tally_runtime.trace_context import TraceContextMiddleware

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(TraceContextMiddleware)

    @app.get("/trace")
    async def current() -> dict[str, str]:
        context = trace.get_current_span().get_span_context()
        return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}

    return app


async def test_the_callers_trace_is_current_while_the_request_runs() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://test") as client:
        traced = (await client.get("/trace", headers={"traceparent": TRACEPARENT})).json()
        untraced = (await client.get("/trace")).json()
    assert traced == {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}
    assert untraced["trace_id"] == "0" * 32
    assert trace.get_current_span().get_span_context().trace_id == 0  # detached afterwards
