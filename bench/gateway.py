"""`GET /v1/dashboard` on the running stack, next to its yardsticks measured in the same run: the slowest single
panel called directly on the service that owns it (the dashboard calls them all at once, so it should cost little
more than its slowest panel), and every panel called directly one after another and all at once (analytics serves
six of the seven panels from one process, so "all at once" is the floor on this stack). Then the dashboard of a
second gateway process, on the same database, whose analytics is stopped (its URL is a closed port): its p99 must
stay under the page's budget.

Each figure: `--samples` requests, one at a time over a keep-alive connection, after a few warm-up ones."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from gateway.config import GatewaySettings
from gateway.dashboard.panels import sources
from tally_stack.daemon import ENV_FILE
from tally_stack.envfile import read_env_file
from tally_stack.procs import free_port, ready_or_stopped, stop_process, until_ready
from tally_stack.services import get_service

from bench.ingest import Row
from bench.loadgen import LoadResult, run_load
from bench.stack import STATE_DIR, RunningStack

WARM_UP = 5
TARGET_RATIO = 1.5
SERVICES = {"analytics": "analytics", "billing": "billing"}


async def _measure(url: str, key: str, requests: int) -> LoadResult:
    headers = {"Authorization": f"Bearer {key}"}
    await run_load(url, None, requests=WARM_UP, events_per_request=0, connections=1, headers=headers)
    return await run_load(url, None, requests=requests, events_per_request=0, connections=1, headers=headers)


def _row(name: str, result: LoadResult) -> Row:
    return Row(name, None, result.requests_per_s, result.p(0.5), result.p(0.99))


def _answered(result: LoadResult) -> str:
    return ", ".join(f"{count}x {status}" for status, count in sorted(result.statuses.items()))


async def _bench_key(gateway_url: str, api_key: str) -> str:
    """A read key without a practical rate limit: the default would throttle the load."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{gateway_url}/v1/api-keys",
            json={"name": "bench gateway", "scopes": ["read"], "rate_limit_per_s": 100_000},
            headers={"Authorization": f"Bearer {api_key}"},
        )
    response.raise_for_status()
    key: str = response.json()["key"]
    return key


def _panel_urls() -> dict[str, str]:
    urls = {}
    for name, source in sources(datetime.now(UTC).date()).items():
        query = "&".join(f"{k}={v}" for k, v in source.params.items())
        urls[name] = f"{get_service(SERVICES[source.upstream]).api_url}{source.path}" + (f"?{query}" if query else "")
    return urls


async def _slowest_panel(stack: RunningStack, requests: int) -> tuple[str, LoadResult]:
    """Every panel's source, called directly (the services accept the stack's key); the slowest by p99 among those
    that answer 2xx."""
    answered: dict[str, LoadResult] = {}
    for name, url in _panel_urls().items():
        result = await _measure(url, stack.api_key, requests)
        if all(200 <= status < 300 for status in result.statuses):
            answered[name] = result
    if not answered:
        raise SystemExit("no dashboard panel answers on the running stack")
    name = max(answered, key=lambda panel: answered[panel].p(0.99))
    return name, answered[name]


async def _all_panels(stack: RunningStack, requests: int, *, at_once: bool) -> LoadResult:
    """Every panel's source called directly, one after another (what the page would cost without concurrency) or
    all at once (what it costs with concurrency and without the gateway)."""
    urls = list(_panel_urls().values())
    latencies: list[float] = []
    started = time.perf_counter()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=30) as http:
        for n in range(requests + WARM_UP):
            sent = time.perf_counter()
            if at_once:
                await asyncio.gather(*(http.get(url) for url in urls))
            else:
                for url in urls:
                    await http.get(url)
            if n >= WARM_UP:
                latencies.append(time.perf_counter() - sent)
    return LoadResult(requests, 0, time.perf_counter() - started, latencies, {})


@contextmanager
def gateway_without(service_var: str, stack: RunningStack) -> Iterator[str]:
    """A second gateway api process like the stack's, but with `service_var` pointing at a closed port."""
    env_file = read_env_file(STATE_DIR / ENV_FILE)
    port = free_port()
    env = os.environ | {
        "GATEWAY_DATABASE_URL": stack.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "TALLY_BOOTSTRAP_API_KEY": stack.api_key,
        "TALLY_ADMIN_EMAIL": env_file["TALLY_ADMIN_EMAIL"],
        "TALLY_ADMIN_PASSWORD": env_file["TALLY_ADMIN_PASSWORD"],
        "GATEWAY_API_PORT": str(port),
        "GATEWAY_BILLING_URL": get_service("billing").api_url,
        "GATEWAY_ANALYTICS_URL": get_service("analytics").api_url,
        "GATEWAY_STREAM_ENABLED": "false",
        service_var: f"http://127.0.0.1:{free_port()}",
    }
    log = Path(STATE_DIR / "bench-gateway.log")
    with log.open("wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "api"], env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    ready_or_stopped(proc, log, until_ready(proc, url))
    try:
        yield url
    finally:
        stop_process(proc)


async def _panels_ok(gateway_url: str, key: str) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{gateway_url}/v1/dashboard", headers={"Authorization": f"Bearer {key}"})
    panels: dict[str, dict[str, object]] = response.json()["panels"]
    return [name for name, panel in panels.items() if panel["status"] == "ok"]


async def dashboard_rows(stack: RunningStack, requests: int) -> list[tuple[Row, str]]:
    key = await _bench_key(stack.gateway_url, stack.api_key)
    panel, slowest = await _slowest_panel(stack, requests)
    in_turn = await _all_panels(stack, requests, at_once=False)
    at_once = await _all_panels(stack, requests, at_once=True)
    dashboard = await _measure(f"{stack.gateway_url}/v1/dashboard", key, requests)
    with gateway_without("GATEWAY_ANALYTICS_URL", stack) as degraded_url:
        degraded = await _measure(f"{degraded_url}/v1/dashboard", key, requests)
    budget_ms = GatewaySettings.model_fields["dashboard_budget_s"].default * 1000
    ratio = dashboard.p(0.99) / slowest.p(0.99)
    ok = await _panels_ok(stack.gateway_url, key)
    return [
        (_row(f"slowest panel direct ({panel})", slowest), "baseline"),
        (_row("every panel direct, one after another", in_turn), "the page without concurrency"),
        (_row("every panel direct, all at once", at_once), "the page without the gateway"),
        (
            _row("GET /v1/dashboard", dashboard),
            f"p99 {ratio:.2f}x the slowest panel (target {TARGET_RATIO}x), {dashboard.p(0.99) / at_once.p(0.99):.2f}x "
            f"all at once; ok: {', '.join(ok) or 'none'}",
        ),
        (
            _row("GET /v1/dashboard, analytics stopped", degraded),
            f"p99 {degraded.p(0.99):.0f} ms vs budget {budget_ms:.0f} ms ({_answered(degraded)})",
        ),
    ]
