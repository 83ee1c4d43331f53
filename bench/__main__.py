"""`make bench`: measure, then print one table with figures and ratios against baselines from the same run.

Sections: `latency` (ingest to visible usage), `ingest` (throughput), `billing` (closing a period for 10,000
subscriptions against the raw aggregate over their usage; upcoming-invoice latency) and `analytics` (rebuilding the
revenue projections of 10,000 customers' 24 months against the raw consume of their events; metric latencies) and
`gateway` (the dashboard against its slowest panel, and with analytics stopped); `python -m bench ingest` runs one."""

import argparse
import asyncio
import os

from bench.analytics import analytics_rows
from bench.billing import close_rows
from bench.gateway import dashboard_rows
from bench.ingest import Row, measure_ingest
from bench.latency import ingest_to_visible, kafka_round_trip, percentile
from bench.stack import RunningStack, running_stack
from bench.upcoming import upcoming_rows

SECTIONS = ("latency", "ingest", "billing", "analytics", "gateway")

HEADER = (
    "| section | benchmark | events/s | requests/s | p50 ms | p99 ms | vs baseline |\n|---|---|---:|---:|---:|---:|---|"
)


def fmt(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def line(section: str, row: Row, ratio: str) -> str:
    figures = [fmt(row.events_per_s), fmt(row.requests_per_s), fmt(row.p50_ms, 1), fmt(row.p99_ms, 1)]
    return f"| {section} | {row.name} | {' | '.join(figures)} | {ratio} |"


async def latency_rows(stack: RunningStack, samples: int) -> list[tuple[Row, str]]:
    def as_row(name: str, seconds: list[float]) -> Row:
        return Row(name, None, None, percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000)

    base = as_row("baseline: Kafka produce -> consume", await kafka_round_trip(stack, samples))
    ours = as_row("ingest POST -> usage visible on the gateway", await ingest_to_visible(stack, samples))
    assert base.p50_ms and ours.p50_ms
    return [(base, "baseline"), (ours, f"p50 {ours.p50_ms / base.p50_ms:.1f}x")]


async def ingest_rows(stack: RunningStack, requests: int) -> list[tuple[Row, str]]:
    rows = await measure_ingest(stack, requests)
    ceiling, single_ceiling, floor, raw, peak, singles = rows[:6]

    def of_floor(r: Row) -> str:
        return f"{(r.requests_per_s or 0.0) / (floor.requests_per_s or 1.0):.0%} of the floor"

    def ratio(r: Row) -> str:
        rate = r.events_per_s or 0.0
        if r.name.endswith("(ingest, batch 1)"):
            return f"{rate / (singles.events_per_s or 1.0):.1f}x ingest's batch 1"
        if r.name.startswith("billing consumer"):
            return f"{rate / (peak.events_per_s or 1.0):.0%} of ingest's peak (batch 100)"
        if r.name == "ingest, batch 1":
            share = (r.requests_per_s or 0.0) / (single_ceiling.requests_per_s or 1.0)
            return f"{share:.0%} of its ceiling (batch 1), {of_floor(r)}"
        return f"{rate / (ceiling.events_per_s or 1.0):.0%} of ceiling, {rate / (raw.events_per_s or 1.0):.1f}x raw"

    baselines = [(ceiling, "ceiling"), (single_ceiling, f"ceiling, {of_floor(single_ceiling)}"), (floor, "floor")]
    return baselines + [(raw, "baseline")] + [(r, ratio(r)) for r in rows[4:]]


async def main(args: argparse.Namespace) -> None:
    sections = args.sections or list(SECTIONS)
    printed = [HEADER]
    with running_stack() as stack:
        if "latency" in sections:
            printed += [line("latency", row, ratio) for row, ratio in await latency_rows(stack, args.samples)]
        if "ingest" in sections:
            printed += [line("ingest", row, ratio) for row, ratio in await ingest_rows(stack, args.requests)]
        if "billing" in sections:
            rows = await upcoming_rows(stack, args.requests, args.connections)
            rows = await close_rows(stack, args.events) + rows
            printed += [line("billing", row, ratio) for row, ratio in rows]
        if "gateway" in sections:
            printed += [line("gateway", row, ratio) for row, ratio in await dashboard_rows(stack, args.samples)]
        if "analytics" in sections:
            rows = await analytics_rows(stack, args.customers, args.samples)
            printed += [line("analytics", row, ratio) for row, ratio in rows]
    print("\n".join(printed))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", help=f"{', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--samples", type=int, default=200, help="latency samples (gateway: requests per figure)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per ingest or upcoming-invoice load")
    parser.add_argument(
        "--events",
        type=int,
        default=int(os.environ.get("BENCH_BILLING_EVENTS", "10000000")),
        help="usage events behind the billing close (default: $BENCH_BILLING_EVENTS or 10,000,000)",
    )
    parser.add_argument("--customers", type=int, default=10_000, help="customers in the analytics history")
    parser.add_argument("--connections", type=int, default=16, help="connections of the upcoming-invoice load")
    arguments = parser.parse_args()
    if unknown := set(arguments.sections) - set(SECTIONS):
        parser.error(f"no section {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    asyncio.run(main(arguments))
