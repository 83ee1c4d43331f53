"""`GET /v1/dashboard` on the running stack, next to its yardstick measured in the same run and in the same state:
the slowest single panel called directly on the service that owns it (the dashboard calls them all at once, so it
should cost little more than its slowest panel), and every panel called directly all at once (the page without the
gateway: analytics serves four of the panels from one process).

Analytics keeps its answers until a projection they read changes, so this is measured in three states:
- natural: the stack as it is, nothing forced (its demo reports usage every second, so the usage answers are
  computed again after each batch is applied; the share of analytics answers served kept is printed);
- warm: nothing changes meanwhile: the bench holds the projections' version rows locked, so the stack's worker
  waits to write (every write bumps them) and every answer stays kept; the worker catches up afterwards;
- cold: before every request, a statement that writes each family of projections and changes no row: its trigger
  bumps the versions as an applied batch does, so every analytics answer is computed afresh.
In each state the requests go in rounds, every panel, all at once, then the dashboard, so that all of them meet the
same load from the rest of the machine. Then the dashboard of a second gateway process, on the same database, whose
analytics is stopped (its URL is a closed port): its p99 must stay under the page's budget.

Each figure: `--samples` requests (rounds), one at a time over keep-alive connections, after a few warm-up ones.
The stack's database is analyzed first: a Postgres without autovacuum has no planner statistics for the
projections the stack's workers filled."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from gateway.config import GatewaySettings
from gateway.dashboard.panels import sources
from prometheus_client.parser import text_string_to_metric_families
from tally_stack.daemon import ENV_FILE
from tally_stack.dsn import libpq_url
from tally_stack.envfile import read_env_file
from tally_stack.procs import free_port, serving
from tally_stack.services import get_service

from bench.ingest import Row
from bench.loadgen import LoadResult
from bench.stack import STATE_DIR, RunningStack, unthrottled_read_key

WARM_UP = 5
TARGET_RATIO = 1.5
SERVICES = {"analytics": "analytics", "billing": "billing"}
# Writes no row, but each statement's trigger bumps its family's version (analytics migration 0005).
CHANGE_PROJECTIONS = """UPDATE analytics.customers SET name = name WHERE false;
UPDATE analytics.usage_daily SET events = events WHERE false"""

# Planner statistics, as autovacuum keeps them on a production Postgres (this machine's runs without it).
GATHER_STATISTICS = "ANALYZE"

# Taken by every projection write's trigger: held, it makes the stack's worker wait.
HOLD_PROJECTIONS = "SELECT family FROM analytics.projection_versions FOR UPDATE"

Before = Callable[[], Awaitable[object]] | None
Probe = tuple[list[str], dict[str, str]]  # the urls fetched at once, with these headers


async def _rounds(probes: dict[str, Probe], requests: int, before: Before = None) -> dict[str, LoadResult]:
    """`requests` rounds after WARM_UP; in each, every probe in turn: `before()` (untimed), then its urls at once,
    timed until the last answer. Requests/s: requests over the time they took."""
    latencies: dict[str, list[float]] = {name: [] for name in probes}
    statuses: dict[str, dict[int, int]] = {name: {} for name in probes}
    async with httpx.AsyncClient(timeout=30) as http:
        for n in range(requests + WARM_UP):
            for name, (urls, headers) in probes.items():
                if before is not None:
                    await before()
                sent = time.perf_counter()
                responses = await asyncio.gather(*(http.get(url, headers=headers) for url in urls))
                if n >= WARM_UP:
                    latencies[name].append(time.perf_counter() - sent)
                    for response in responses:
                        statuses[name][response.status_code] = statuses[name].get(response.status_code, 0) + 1
    return {name: LoadResult(requests, 0, sum(latencies[name]), latencies[name], statuses[name]) for name in probes}


def _row(name: str, result: LoadResult) -> Row:
    return Row(name, None, result.requests_per_s, result.p(0.5), result.p(0.99))


def _answered(result: LoadResult) -> str:
    return ", ".join(f"{count}x {status}" for status, count in sorted(result.statuses.items()))


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _panel_urls() -> dict[str, str]:
    """The panels the dashboard asks their services for (not those no service serves yet)."""
    urls = {}
    for name, source in sources(datetime.now(UTC).date()).items():
        if source.not_yet:
            continue
        query = "&".join(f"{k}={v}" for k, v in source.params.items())
        urls[name] = f"{get_service(SERVICES[source.upstream]).api_url}{source.path}" + (f"?{query}" if query else "")
    return urls


async def _answers_kept() -> tuple[float, float]:
    """Analytics answers so far from its /metrics: (kept, computed), over every cached endpoint."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{get_service('analytics').api_url}/metrics")).text
    totals = {"kept": 0.0, "computed": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tally_analytics_answers_total":
                totals[sample.labels["outcome"]] += sample.value
    return totals["kept"], totals["computed"]


async def _kept_share(measuring: Awaitable[dict[str, LoadResult]]) -> tuple[dict[str, LoadResult], str]:
    """The results, and the share of the analytics answers during them that were served kept."""
    kept, computed = await _answers_kept()
    results = await measuring
    kept_after, computed_after = await _answers_kept()
    served = kept_after - kept + computed_after - computed
    return results, f"analytics answers kept: {(kept_after - kept) / served:.0%}" if served else "no analytics answer"


AT_ONCE = "every panel direct, all at once"
PAGE = "GET /v1/dashboard"


def _probes(stack: RunningStack, key: str) -> dict[str, Probe]:
    panels = _panel_urls()
    direct = _bearer(stack.api_key)  # the services accept the stack's key
    return (
        {name: ([url], direct) for name, url in panels.items()}
        | {AT_ONCE: (list(panels.values()), direct)}
        | {PAGE: ([f"{stack.gateway_url}/v1/dashboard"], _bearer(key))}
    )


def _state_rows(state: str, results: dict[str, LoadResult], kept: str) -> list[tuple[Row, str]]:
    """The slowest panel among those answering 2xx (by p99), all at once, and the dashboard against both."""
    panels = {
        name: result
        for name, result in results.items()
        if name not in {AT_ONCE, PAGE} and all(200 <= status < 300 for status in result.statuses)
    }
    if not panels:
        raise SystemExit("no dashboard panel answers on the running stack")
    slowest = max(panels, key=lambda name: panels[name].p(0.99))
    panel, at_once, page = panels[slowest], results[AT_ONCE], results[PAGE]
    return [
        (_row(f"{state}: slowest panel direct ({slowest})", panel), f"baseline ({state})"),
        (_row(f"{state}: {AT_ONCE}", at_once), "the page without the gateway"),
        (
            _row(f"{state}: {PAGE}", page),
            f"p99 {page.p(0.99) / panel.p(0.99):.2f}x the slowest panel (target {TARGET_RATIO}x), "
            f"{page.p(0.99) / at_once.p(0.99):.2f}x all at once; {kept}",
        ),
    ]


@asynccontextmanager
async def projections_held(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """No projection changes while inside: the version rows locked until the end of the transaction."""
    async with connection.transaction():
        await connection.execute(HOLD_PROJECTIONS)
        yield


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
    with serving(proc, log, f"http://127.0.0.1:{port}") as url:
        yield url


async def _panels_ok(gateway_url: str, key: str) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{gateway_url}/v1/dashboard", headers=_bearer(key))
    panels: dict[str, dict[str, object]] = response.json()["panels"]
    return [name for name, panel in panels.items() if panel["status"] == "ok"]


async def dashboard_rows(stack: RunningStack, requests: int) -> list[tuple[Row, str]]:
    key = await unthrottled_read_key(stack, "bench gateway")
    probes = _probes(stack, key)
    connection = await asyncpg.connect(libpq_url(stack.database_url))
    try:

        async def change() -> None:
            await connection.execute(CHANGE_PROJECTIONS)

        await connection.execute(GATHER_STATISTICS)
        natural, natural_kept = await _kept_share(_rounds(probes, requests))
        async with projections_held(connection):
            warm, warm_kept = await _kept_share(_rounds(probes, requests))
        cold, cold_kept = await _kept_share(_rounds(probes, requests, change))
    finally:
        await connection.close()
    with gateway_without("GATEWAY_ANALYTICS_URL", stack) as degraded_url:
        degraded = (await _rounds({PAGE: ([f"{degraded_url}/v1/dashboard"], _bearer(key))}, requests))[PAGE]
    budget_ms = GatewaySettings.model_fields["dashboard_budget_s"].default * 1000
    ok = await _panels_ok(stack.gateway_url, key)
    return [
        *_state_rows("natural", natural, natural_kept),
        *_state_rows("warm", warm, warm_kept),
        *_state_rows("cold", cold, f"{cold_kept}; ok: {', '.join(ok) or 'none'}"),
        (
            _row(f"{PAGE}, analytics stopped", degraded),
            f"p99 {degraded.p(0.99):.0f} ms vs budget {budget_ms:.0f} ms ({_answered(degraded)})",
        ),
    ]
