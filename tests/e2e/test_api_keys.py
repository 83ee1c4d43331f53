"""API keys through the real processes: issued on the gateway, learnt by ingest from the topic, so ingest keeps
accepting them with the gateway down, and refuses a revoked one within 5 seconds."""

import asyncio
import time
from uuid import uuid4

import httpx
import pytest
from tally_stack.system import System
from tally_stack.testing import eventually

pytestmark = pytest.mark.e2e
REVOCATION_DEADLINE_S = 5.0


async def post_event(http: httpx.AsyncClient, system: System, key: str) -> int:
    body = {"id": uuid4().hex, "customer_id": f"acme-{uuid4().hex[:6]}", "type": f"api_call_{uuid4().hex[:6]}"}
    response = await http.post(
        f"{system.url('usage-ingest')}/v1/events", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code


async def restart_gateway(system: System) -> None:
    for role in ("api", "worker"):
        system.start("gateway", role)
    for role in ("api", "worker"):
        await asyncio.to_thread(system.wait_ready, "gateway", role)


async def test_ingest_trusts_issued_keys_without_the_gateway_and_drops_revoked_ones(system: System) -> None:
    admin = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{system.url('gateway')}/v1/api-keys", json={"name": "e2e backend", "scopes": ["ingest"]}, headers=admin
        )
        assert response.status_code == 201, response.text
        issued = response.json()

        async def accepted() -> None:
            assert await post_event(http, system, issued["key"]) == 202

        await eventually(accepted, 30, interval=0.05)

        system.kill("gateway", "api")
        system.kill("gateway", "worker")
        try:
            with pytest.raises(httpx.TransportError):
                await http.get(f"{system.url('gateway')}/healthz")
            for _ in range(3):
                assert await post_event(http, system, issued["key"]) == 202
        finally:
            await restart_gateway(system)

        revoke = await http.delete(f"{system.url('gateway')}/v1/api-keys/{issued['id']}", headers=admin)
        assert revoke.status_code == 204
        started = time.monotonic()

        async def refused() -> None:
            assert await post_event(http, system, issued["key"]) == 401

        await eventually(refused, REVOCATION_DEADLINE_S, interval=0.05)
        latency = time.monotonic() - started
        print(f"revocation through gateway, outbox, topic and ingest took {latency * 1000:.0f} ms")
        assert latency < REVOCATION_DEADLINE_S
