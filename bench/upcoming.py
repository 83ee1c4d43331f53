"""`GET /v1/subscriptions/{id}/upcoming-invoice` latency, on the running stack: subscriptions whose period is open
now, made through the gateway, with usage sent through usage-ingest and taken in by the billing worker, previewed
through the gateway over a few connections; and, for reference, on billing's own port (what the gateway adds)."""

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
from tally_stack.services import get_service

from bench.billing_data import meter_specs, plan_spec
from bench.consumers import usage_consumers
from bench.ingest import Row
from bench.loadgen import LoadResult, run_load
from bench.stack import RunningStack

SUBSCRIPTIONS = 1_000
EVENTS_PER_CUSTOMER = 100
TARGET_P99_MS = 50.0


async def _create(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(url, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text}")
    created: dict[str, Any] = response.json()
    return created


async def open_subscriptions(stack: RunningStack, http: httpx.AsyncClient, run: str, start: datetime) -> list[str]:
    """Meters, a plan, and SUBSCRIPTIONS customers each subscribed since `start`: their period is open now."""
    for spec in meter_specs(f"bench_{run}_", f"bench_{run}_call"):
        await _create(http, f"{stack.gateway_url}/v1/meters", spec)
    await _create(http, f"{stack.gateway_url}/v1/plans", plan_spec(f"bench_{run}", f"bench_{run}_"))
    slots = asyncio.Semaphore(8)

    async def subscribe(n: int) -> str:
        async with slots:
            customer = {"external_id": f"bench-{run}-{n}", "name": f"Bench {n}", "currency": "USD"}
            await _create(http, f"{stack.gateway_url}/v1/customers", customer)
            body = {"customer_id": customer["external_id"], "plan_key": f"bench_{run}", "start_date": start.isoformat()}
            return str((await _create(http, f"{stack.gateway_url}/v1/subscriptions", body))["id"])

    return list(await asyncio.gather(*(subscribe(n) for n in range(SUBSCRIPTIONS))))


def usage_bodies(run: str, start: datetime, end: datetime) -> list[bytes]:
    """One batch per customer: EVENTS_PER_CUSTOMER events spread over [start, end), 1 in 5 a large one."""
    step = (end - start) / EVENTS_PER_CUSTOMER
    return [
        json.dumps(
            {
                "events": [
                    {
                        "id": f"{run}-{n}-{i}",
                        "customer_id": f"bench-{run}-{n}",
                        "type": f"bench_{run}_call",
                        "timestamp": (start + step * (i + 0.5)).isoformat(),
                        "properties": {
                            "tokens": 1 + (n * 7919 + i) % 2000,
                            "model": "large" if i % 5 == 0 else "small",
                        },
                    }
                    for i in range(EVENTS_PER_CUSTOMER)
                ]
            }
        ).encode()
        for n in range(SUBSCRIPTIONS)
    ]


async def send_usage(stack: RunningStack, http: httpx.AsyncClient, run: str, start: datetime) -> None:
    """Through usage-ingest, then wait until the billing worker has taken every event in."""
    bodies = usage_bodies(run, start, datetime.now(UTC))
    billing = usage_consumers()["billing"]
    before = await billing.consumed(http)
    headers = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    sent = await run_load(
        f"{stack.ingest_url}/v1/events/batch",
        lambda n: bodies[n],
        requests=len(bodies),
        events_per_request=EVENTS_PER_CUSTOMER,
        connections=8,
        headers=headers,
    )
    if set(sent.statuses) - {200, 202}:
        raise RuntimeError(f"/v1/events/batch answered {sent.statuses}")
    await billing.consumed_after(http, before + sent.events)


async def check_preview(stack: RunningStack, http: httpx.AsyncClient, subscription_id: str) -> None:
    """One preview must show the usage sent: all three meters' lines with quantities."""
    response = await http.get(f"{stack.gateway_url}/v1/subscriptions/{subscription_id}/upcoming-invoice")
    response.raise_for_status()
    usage = [line for line in response.json()["lines"] if line["kind"] == "usage"]
    if len(usage) != 3 or not all(float(line["quantity"]) > 0 for line in usage):
        raise RuntimeError(f"the upcoming invoice shows no usage: {response.text}")


async def previews(
    base_url: str,
    headers: dict[str, str],
    ids: list[str],
    requests: int,
    connections: int,
    *,
    rate: float | None = None,
) -> LoadResult:
    result = await run_load(
        base_url,
        None,
        requests=requests,
        events_per_request=0,
        connections=connections,
        headers=headers,
        rate=rate,
        path_for=lambda n: f"/v1/subscriptions/{ids[n % len(ids)]}/upcoming-invoice",
    )
    if set(result.statuses) != {200}:
        raise RuntimeError(f"upcoming-invoice answered {result.statuses}")
    return result


def as_row(name: str, result: LoadResult) -> Row:
    return Row(name, None, result.requests_per_s, result.p(0.5), result.p(0.99))


def against_target(result: LoadResult) -> str:
    p99 = result.p(0.99)
    return f"p99 vs {TARGET_P99_MS:.0f} ms target: {'met' if p99 < TARGET_P99_MS else 'missed'}"


async def upcoming_rows(stack: RunningStack, requests: int, connections: int) -> list[tuple[Row, str]]:
    run = uuid4().hex[:8]
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=60) as http:
        ids = await open_subscriptions(stack, http, run, start)
        await send_usage(stack, http, run, start)
        await check_preview(stack, http, ids[0])
    print(f"  upcoming: {len(ids):,} open subscriptions with usage; previewing ...", file=sys.stderr, flush=True)
    gateway = (stack.gateway_url, {"Authorization": f"Bearer {stack.api_key}"})
    await previews(*gateway, ids, 200, 4)  # warm-up: connections, caches, the api processes' first requests
    direct = await previews(get_service("billing").api_url, {}, ids, requests, 1)
    alone = await previews(*gateway, ids, requests, 1)
    loaded = await previews(*gateway, ids, requests * 2, connections)
    paced = await previews(*gateway, ids, requests * 2, connections, rate=0.5 * loaded.requests_per_s)
    name = "upcoming-invoice via the gateway"
    return [
        (as_row("upcoming-invoice on billing's port, 1 connection", direct), against_target(direct)),
        (as_row(f"{name}, 1 connection", alone), against_target(alone)),
        (as_row(f"{name}, {connections} connections", loaded), against_target(loaded)),
        (as_row(f"{name}, {connections} connections at half that peak", paced), against_target(paced)),
    ]
