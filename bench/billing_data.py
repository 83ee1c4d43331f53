"""The billing close's data: a database of its own on the stack's Postgres server (the stack's worker closes every
ended period it sees, so the bench's periods must not be in the stack's database), filled inside Postgres.

Customers, usage events and subscriptions are INSERT ... SELECT generate_series; the meters and the plan go through
billing's own catalog and plan services, so each meter's backfill computes the daily totals from the stored events
with the same SQL the consumer uses. The terms below also price the invoices independently (`expected_amount`)."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
from billing.catalog.schemas import MeterCreate
from billing.catalog.service import create_meter
from billing.db import SCHEMA
from billing.plans.schemas import PlanIn
from billing.plans.service import create_plan
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.dsn import libpq_url

ANCHOR = datetime(2026, 9, 1, tzinfo=UTC)  # subscriptions started then, monthly
PERIOD_START = datetime(2026, 10, 1, tzinfo=UTC)  # the period the bench closes
PERIOD_END = datetime(2026, 11, 1, tzinfo=UTC)
CLOSE_AT = PERIOD_END + timedelta(minutes=5)
EVENT_TYPE = "api_call"
PLAN_KEY = "bench_monthly"
CHUNK = 1_000_000  # events per INSERT statement


def meter_specs(prefix: str, event_type: str) -> list[dict[str, Any]]:
    """A count, a sum of a property and a filtered count, as POST /v1/meters takes them."""
    return [
        {"key": f"{prefix}calls", "event_type": event_type, "aggregation": "count"},
        {"key": f"{prefix}tokens", "event_type": event_type, "aggregation": "sum", "property": "tokens"},
        {
            "key": f"{prefix}large_calls",
            "event_type": event_type,
            "aggregation": "count",
            "filters": {"model": "large"},
        },
    ]


def plan_spec(key: str, prefix: str) -> dict[str, Any]:
    """A monthly plan, as POST /v1/plans takes it: per_unit with included units, graduated tiers, package."""
    tiers = [
        {"up_to": "250000", "unit_price": "0.002"},
        {"up_to": "1000000", "unit_price": "0.0015"},
        {"up_to": None, "unit_price": "0.001"},
    ]
    return {
        "key": key,
        "name": "Bench monthly",
        "currency": "USD",
        "interval": "month",
        "base_price_minor": 4900,
        "charges": [
            {"meter": f"{prefix}calls", "model": "per_unit", "unit_price": "0.5", "included_units": "100"},
            {"meter": f"{prefix}tokens", "model": "graduated", "tiers": tiers},
            {"meter": f"{prefix}large_calls", "model": "package", "package_size": 50, "package_price_minor": 100},
        ],
    }


def expected_amount(charge: dict[str, Any], quantity: Decimal) -> int:
    """What a charge of `plan_spec` costs for a quantity, written here apart from billing.rating."""
    billable = max(Decimal(0), quantity - Decimal(charge.get("included_units", "0")))
    if charge["model"] == "per_unit":
        amount = billable * Decimal(charge["unit_price"])
    elif charge["model"] == "package":
        blocks = (billable / charge["package_size"]).to_integral_value(rounding=ROUND_CEILING)  # started blocks
        amount = blocks * charge["package_price_minor"]
    else:
        amount, floor = Decimal(0), Decimal(0)
        for tier in charge["tiers"]:
            ceiling = billable if tier["up_to"] is None else min(billable, Decimal(tier["up_to"]))
            amount += max(Decimal(0), ceiling - floor) * Decimal(tier["unit_price"])
            floor = max(floor, ceiling)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def customer_key(number: int) -> str:
    """How the usage events name customer `number` (its external id)."""
    return f"bench-{number:06d}"


_CUSTOMERS = """
INSERT INTO customers (id, external_id, name, currency, tax_rate, metadata, created_at, updated_at)
SELECT 'cus_bench' || lpad(c::text, 6, '0'), 'bench-' || lpad(c::text, 6, '0'), 'Bench customer ' || c, 'USD', 0,
    '{}'::jsonb, $1, $1
FROM generate_series(0, $2::int - 1) AS c
"""

# Events n in [$1, $2) of $3, in primary-key order (customer, then event id) so the indexes fill from the right.
# Customer c holds the events with c = floor(C * y), y solving (y + y^2) / 2 = n / N: from half to one and a half
# times the mean. Times spread over the period by the golden ratio; 1 in 5 events is a "large" one.
_EVENTS = """
INSERT INTO usage_events (customer_id, event_id, event_type, occurred_at, properties)
SELECT 'bench-' || lpad(s.c::text, 6, '0'), 'evt-' || lpad(s.n::text, 10, '0'), $7,
    $5::timestamptz + make_interval(secs => s.f * $6::float8),
    jsonb_build_object('tokens', 1 + (s.n * 7919) % 2000, 'model', CASE WHEN s.n % 5 = 0 THEN 'large' ELSE 'small' END)
FROM (
    SELECT n, floor($4::int * (sqrt(1 + 8 * n::float8 / $3::bigint) - 1) / 2)::int AS c,
        n * 0.6180339887498949::float8 - floor(n * 0.6180339887498949::float8) AS f
    FROM generate_series($1::bigint, $2::bigint - 1) AS n
) s
"""

_SUBSCRIPTIONS = """
INSERT INTO subscriptions (id, customer_id, plan_version_id, status, started_at, billing_anchor,
    current_period_start, current_period_end, cancel_at_period_end, created_at, updated_at)
SELECT 'sub_bench' || lpad(c::text, 6, '0'), 'cus_bench' || lpad(c::text, 6, '0'), $1, 'active', $2, $2, $3, $4,
    false, $2, $3
FROM generate_series(0, $5::int - 1) AS c
"""


@dataclass
class Generated:
    customers: int
    events: int
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall seconds

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started
        print(f"  billing data: {name}: {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)


async def connect(url: str) -> Any:
    return await asyncpg.connect(libpq_url(url), server_settings={"search_path": SCHEMA})


async def generate(
    url: str, admin_url: str, sessions: async_sessionmaker[AsyncSession], customers: int, events: int
) -> Generated:
    """`customers` customers, each with one subscription on the plan whose period [PERIOD_START, PERIOD_END) has
    ended, and `events` usage events over that period, with their meters' daily totals."""
    made = Generated(customers, events)
    connection = await connect(url)
    try:
        with made.step(f"{customers:,} customers"):
            await connection.execute(_CUSTOMERS, ANCHOR, customers)
        with made.step(f"{events:,} usage events"):
            span = (PERIOD_END - PERIOD_START).total_seconds()
            for first in range(0, events, CHUNK):
                last = min(events, first + CHUNK)
                await connection.execute(_EVENTS, first, last, events, customers, PERIOD_START, span, EVENT_TYPE)
        with made.step("vacuum analyze usage_events"):
            await connection.execute("VACUUM (ANALYZE) usage_events")
        for spec in meter_specs("", EVENT_TYPE):
            with made.step(f"meter {spec['key']} (its backfill computes the daily totals)"):
                async with sessions() as session, session.begin():
                    await create_meter(session, MeterCreate.model_validate(spec))
        with made.step("plan, subscriptions, analyze, checkpoint"):
            async with sessions() as session, session.begin():
                plan = await create_plan(session, PlanIn.model_validate(plan_spec(PLAN_KEY, "")))
            await connection.execute(_SUBSCRIPTIONS, plan.id, ANCHOR, PERIOD_START, PERIOD_END, customers)
            await connection.execute("ANALYZE customers, subscriptions, plan_versions, meters, meter_daily_totals")
            await checkpoint(admin_url)
    finally:
        await connection.close()
    return made


async def checkpoint(admin_url: str) -> None:
    """Write the generated pages out now, not while the bench measures."""
    admin = await asyncpg.connect(libpq_url(admin_url))
    try:
        await admin.execute("CHECKPOINT")
    finally:
        await admin.close()
