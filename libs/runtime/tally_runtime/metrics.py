"""Prometheus metrics every process exposes at /metrics.

Several processes sharing a port (`api_workers` or `worker_processes` > 1) each write their metrics to files in one
directory (prometheus_client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`), and whichever answers /metrics reports
them all added up: a scrape lands on one process, and would otherwise see only its share."""

import os
import time

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_asgi_app,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_CONSUMED = Counter(
    "tally_events_consumed_total",
    "Kafka messages consumed, by outcome: processed, duplicate, dlq or skipped (key ring)",
    ["topic", "group", "outcome"],
)
CONSUMER_LAG = Gauge(
    "tally_consumer_lag_messages",
    "Messages on the partition not yet consumed by the group (high water mark minus next offset)",
    ["topic", "partition", "group"],
    multiprocess_mode="livemostrecent",  # a partition moves between a worker's processes: its latest reading wins
)
EVENTS_ACCEPTED = Counter(
    "tally_events_accepted_total",
    "Usage events the ingest API accepted (the broker acknowledged them)",
)
OUTBOX_PUBLISHED = Counter("tally_outbox_published_total", "Outbox events the relay published", ["schema"])
OUTBOX_BACKLOG = Gauge(
    "tally_outbox_backlog_events",
    "Outbox events written but not yet published, as this process's relay last saw them",
    ["schema"],
    multiprocess_mode="livemostrecent",
)
JOB_RUNS = Counter(
    "tally_job_runs_total", "Runs of a worker's periodic job, by outcome: ok or failed", ["job", "outcome"]
)
JOB_SECONDS = Histogram(
    "tally_job_duration_seconds",
    "How long a periodic job's run took (an invoice run, a payment run)",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _exposed() -> CollectorRegistry:
    if MULTIPROCESS_DIR not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


_EXPOSED = _exposed()
metrics_app = make_asgi_app(_EXPOSED)


def exposition() -> bytes:
    """This process's metrics, or those of every process sharing its port."""
    return generate_latest(_EXPOSED)


class HttpMetricsMiddleware:
    """Times every HTTP request under its route template (not the raw path, to bound label cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or "unmatched"
            HTTP_LATENCY.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)
