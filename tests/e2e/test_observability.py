"""Every process answers its probes and serves Prometheus metrics."""

import httpx
import pytest
from tally_stack.system import System

pytestmark = pytest.mark.e2e


async def test_every_api_has_probes_and_metrics(system: System) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for service in system.services:
            assert (await http.get(f"{service.api_url}/healthz")).json() == {"status": "ok"}
            ready = await http.get(f"{service.api_url}/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] in (["api_keys", "broker"], ["database"])
            metrics = await http.get(f"{service.api_url}/metrics")
            assert metrics.headers["content-type"].startswith("text/plain")
            assert 'http_request_duration_seconds_count{method="GET",route="/readyz"' in metrics.text


async def test_every_worker_answers_its_probes(system: System) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for service in system.services:
            if service.worker_port is not None:
                assert (await http.get(f"http://127.0.0.1:{service.worker_port}/healthz")).is_success, service.name
                assert (await http.get(f"http://127.0.0.1:{service.worker_port}/metrics")).is_success, service.name


async def test_the_worker_reports_consumption_and_lag(system: System) -> None:
    worker = system.service("billing")
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"http://127.0.0.1:{worker.worker_port}/healthz")).is_success
        metrics = (await http.get(f"http://127.0.0.1:{worker.worker_port}/metrics")).text
    assert "# TYPE tally_events_consumed_total counter" in metrics
    assert "# TYPE tally_consumer_lag_messages gauge" in metrics


async def test_workers_are_ready_once_their_consumers_hold_partitions(system: System) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for service in system.services:
            if service.worker_port is not None:
                ready = await http.get(f"http://127.0.0.1:{service.worker_port}/readyz")
                assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_an_api_of_several_processes_reports_them_all(system: System) -> None:
    """usage-ingest runs two api processes on one port: each request lands on either, a scrape on one of them."""
    ingest = system.service("usage-ingest")
    served = 'http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}'

    async def healthz_served() -> float:
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"{ingest.api_url}/metrics")).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(served))

    before = await healthz_served()
    for _ in range(40):  # a connection each, so that both processes take some
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"{ingest.api_url}/healthz")).is_success
    assert await healthz_served() == before + 40
