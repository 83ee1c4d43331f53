"""GET /v1/stream: events produced onto the real broker reach a connected client as server-sent events."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.resources import files
from typing import Any
from uuid import uuid4

import httpx
from contracts.topics import ANALYTICS_ALERTS, BILLING_EVENTS
from tally_stack.testing import Infra, produce

NewUser = Callable[[str], Awaitable[Any]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def example(event_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("contracts").joinpath(f"examples/{event_type}.json").read_text())
    return loaded | {"id": f"evt_{uuid4().hex}"}


async def frames(response: httpx.Response) -> AsyncIterator[str]:
    """The stream's frames (blank-line separated), as they arrive."""
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            yield frame


async def events_with_ids(stream: AsyncIterator[str], *event_ids: str) -> dict[str, dict[str, str]]:
    """The events with these ids, in whatever order they come (two topics keep no order between them)."""
    found: dict[str, dict[str, str]] = {}
    async for frame in stream:
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line and not line.startswith(":"))
        if fields.get("id") in event_ids:
            found[fields["id"]] = fields
            if len(found) == len(event_ids):
                return found
    raise AssertionError("the stream ended")


async def test_a_billing_event_and_an_alert_reach_the_stream(live_gateway: Callable[..., Any], infra: Infra) -> None:
    async with (
        live_gateway(stream_enabled=True) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        http.stream("GET", "/v1/stream", headers=bearer(infra.api_key)) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = frames(response)
        assert "connected" in await anext(stream)
        payment = example("tally.payment.failed")
        alert = payment | {"id": f"evt_{uuid4().hex}", "type": "tally.alert.fired", "source": "tally/analytics"}
        await produce(infra.kafka_bootstrap, BILLING_EVENTS, [(b"cus_1", json.dumps(payment).encode())])
        await produce(infra.kafka_bootstrap, ANALYTICS_ALERTS, [(b"rule_1", json.dumps(alert).encode())])
        found = await asyncio.wait_for(events_with_ids(stream, payment["id"], alert["id"]), 30)
        assert found[payment["id"]]["event"] == "tally.payment.failed"
        assert json.loads(found[payment["id"]]["data"]) == payment
        assert found[alert["id"]]["event"] == "tally.alert.fired"


async def test_the_stream_beats_and_takes_a_viewers_cookie(
    live_gateway: Callable[..., Any], new_user: NewUser, infra: Infra
) -> None:
    viewer = await new_user("viewer")
    # Other tests' failed logins from 127.0.0.1 (schemathesis) must not lock this one out: lockout has its own tests.
    changes = {"stream_enabled": True, "stream_heartbeat_s": 0.2, "login_max_failures": 10_000}
    async with (
        live_gateway(**changes) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        assert (await http.get("/v1/stream")).status_code == 401
        login = await http.post("/v1/auth/login", json={"email": viewer.email, "password": viewer.password})
        assert login.status_code == 200
        async with http.stream("GET", "/v1/stream") as response:
            assert response.status_code == 200
            stream = frames(response)
            assert "connected" in await anext(stream)
            assert await asyncio.wait_for(anext(stream), 5) == ": heartbeat"
