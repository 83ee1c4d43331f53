"""Closing a billing period for many subscriptions, against the raw Postgres aggregate over the same usage events.

The close is billing's own `closing.close_due(sessions, now)`, run in this process against a database of its own
(see bench.billing_data): wall time, and the process's peak resident memory during it (VmHWM, reset just before;
the Postgres server's memory is not in it). The yardstick, in the same run on the same data: one GROUP BY over the
period's usage events computing what the invoices need (events, tokens and large events per customer), the faster
of two runs. Afterwards every invoice's usage lines are checked against prices computed here from that aggregate."""

import re
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from billing.db import MIGRATIONS, SCHEMA
from billing.invoices import closing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.db import create_engine, session_factory

from bench.billing_data import (
    CLOSE_AT,
    EVENT_TYPE,
    PERIOD_END,
    PERIOD_START,
    connect,
    customer_key,
    expected_amount,
    generate,
    plan_spec,
)
from bench.ingest import Row
from bench.stack import RunningStack, bench_database

SUBSCRIPTIONS = 10_000
TARGET_RATIO = 3.0
Quantities = dict[str, dict[str, Decimal]]  # customer's usage key -> meter key -> quantity

_RAW_AGGREGATE = """
SELECT customer_id, event_type, count(*), sum((properties ->> 'tokens')::numeric),
    count(*) FILTER (WHERE properties @> '{"model": "large"}')
FROM usage_events
WHERE occurred_at >= $1 AND occurred_at < $2
GROUP BY 1, 2
"""

_USAGE_LINES = """
SELECT c.external_id, l.meter, l.quantity, l.amount_minor
FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id JOIN customers c ON c.id = i.customer_id
WHERE i.boundary = $1 AND l.kind = 'usage'
"""


@dataclass(frozen=True)
class Close:
    closed: int
    seconds: float
    rss_before_kib: int
    peak_rss_kib: int
    peak_reset: bool  # else the peak is the process's since it started


def _status_kib(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert found, f"no {field} in /proc/self/status"
    return int(found.group(1))


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM (the peak resident set) to the current one. False when it cannot
    (VmHWM is then the peak since the process started)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def raw_aggregate(url: str) -> tuple[float, Quantities]:
    """The faster of two runs of the GROUP BY, and what it found."""
    connection = await connect(url)
    try:
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            rows = await connection.fetch(_RAW_AGGREGATE, PERIOD_START, PERIOD_END)
            runs.append(time.perf_counter() - started)
    finally:
        await connection.close()
    found = {
        row[0]: {"calls": Decimal(row[2]), "tokens": Decimal(row[3]), "large_calls": Decimal(row[4])}
        for row in rows
        if row[1] == EVENT_TYPE
    }
    return min(runs), found


async def timed_close(sessions: async_sessionmaker[AsyncSession]) -> Close:
    rss_before = _status_kib("VmRSS")
    reset = _reset_peak_rss()
    started = time.perf_counter()
    closed = await closing.close_due(sessions, CLOSE_AT)
    seconds = time.perf_counter() - started
    return Close(closed, seconds, rss_before, _status_kib("VmHWM"), reset)


async def verify(url: str, customers: int, raw: Quantities, closed: int) -> None:
    """Exactly one invoice per subscription, and every usage line as priced here from the raw aggregate."""
    connection = await connect(url)
    try:
        invoices, subscriptions = await connection.fetchrow(
            "SELECT count(*), count(DISTINCT subscription_id) FROM invoices WHERE boundary = $1", PERIOD_END
        )
        advanced = await connection.fetchval(
            "SELECT count(*) FROM subscriptions WHERE current_period_start = $1", PERIOD_END
        )
        lines = await connection.fetch(_USAGE_LINES, PERIOD_END)
    finally:
        await connection.close()
    if not closed == invoices == subscriptions == advanced == customers:
        raise RuntimeError(
            f"expected {customers:,} periods closed: close_due said {closed:,}, {invoices:,} invoices "
            f"for {subscriptions:,} subscriptions, {advanced:,} subscriptions in the next period"
        )
    charges = {charge["meter"]: charge for charge in plan_spec("", "")["charges"]}
    expected = {
        (customer_key(c), meter): (quantity, expected_amount(charges[meter], quantity))
        for c in range(customers)
        for meter in charges
        for quantity in [raw.get(customer_key(c), {}).get(meter, Decimal(0))]
    }
    found = {(row[0], row[1]): (Decimal(row[2]), int(row[3])) for row in lines}
    wrong = [(key, found.get(key), want) for key, want in expected.items() if found.get(key) != want]
    if wrong or len(lines) != len(expected):
        raise RuntimeError(f"{len(wrong):,} usage lines differ from the raw aggregate's prices, e.g. {wrong[:3]}")
    total = sum(amount for _, amount in expected.values())
    print(f"  billing check: {len(lines):,} usage lines match, {total:,} minor units in all", file=sys.stderr)


async def close_rows(stack: RunningStack, events: int) -> list[tuple[Row, str]]:
    async with bench_database(stack.database_url, SCHEMA, MIGRATIONS) as url:
        engine = create_engine(url, SCHEMA, pool_size=2)
        try:
            sessions = session_factory(engine)
            made = await generate(url, stack.database_url, sessions, SUBSCRIPTIONS, events)
            print(f"  billing data: generated in {sum(made.seconds.values()):.0f} s (not measured)", file=sys.stderr)
            raw_seconds, raw = await raw_aggregate(url)
            print(f"  billing: raw aggregate {raw_seconds:.2f} s; closing ...", file=sys.stderr, flush=True)
            close = await timed_close(sessions)
        finally:
            await engine.dispose()
        await verify(url, SUBSCRIPTIONS, raw, close.closed)
    ratio = close.seconds / raw_seconds
    growth = (close.peak_rss_kib - close.rss_before_kib) / 1024
    memory = f"peak RSS {close.peak_rss_kib / 1024:,.0f} MiB " + (
        f"(+{growth:,.0f} MiB)" if close.peak_reset else "(the process's, since it started)"
    )
    baseline = f"baseline: raw GROUP BY over the {events:,} events, {raw_seconds:.2f} s"
    ours = f"close {SUBSCRIPTIONS:,} periods (3 charges each), {close.seconds:.1f} s, {memory}"
    verdict = "within" if ratio <= TARGET_RATIO else "over"
    return [
        (Row(baseline, events / raw_seconds, None, None, None), "baseline"),
        (Row(ours, events / close.seconds, None, None, None), f"{ratio:.1f}x the raw aggregate ({verdict} 3x target)"),
    ]
