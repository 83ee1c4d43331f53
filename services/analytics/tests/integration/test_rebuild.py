"""`python -m analytics rebuild` replaces the billing projections with the topic replayed from its beginning: every
table holds the same rows and every metric endpoint answers exactly as before, with the events applied late, out of
order, twice, or not at all (undecodable) as the live consumer saw them."""

import asyncio
import contextlib
import os
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from analytics.config import AnalyticsSettings
from contracts.customers import Customer, CustomerUpdatedEvent
from contracts.invoices import InvoiceFinalizedEvent, InvoiceVoidedEvent
from contracts.topics import BILLING_EVENTS
from tally_stack.testing import eventually, produce

# Every projection's rows of one currency (the ids of mrr_segments are only surrogate keys).
TABLES = {
    "customers": "SELECT id, external_id, name, email, metadata::text, created_at, updated_at FROM customers c",
    "subscription_changes": "SELECT * FROM subscription_changes c",
    "mrr_segments": "SELECT customer_id, subscription_id, plan_key, interval, status, valid_from, valid_to, "
    "mrr_minor FROM mrr_segments c",
    "customer_mrr_months": "SELECT * FROM customer_mrr_months c",
    "invoices": "SELECT * FROM invoices c",
    "invoice_lines": "SELECT l.* FROM invoice_lines l JOIN invoices c ON c.id = l.invoice_id",
    "payments": "SELECT * FROM payments c",
    "revenue_months": "SELECT * FROM revenue_months c WHERE amount_minor <> 0 AND",  # a zero total is no revenue
}


async def rows(settings: AnalyticsSettings, currency: str, event_ids: list[str]) -> dict[str, list[Any]]:
    url = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url, server_settings={"search_path": "analytics"})
    try:
        found = {}
        for table, query in TABLES.items():
            where = " c.currency = $1" if query.endswith("AND") else " WHERE c.currency = $1"
            found[table] = sorted(tuple(row) for row in await connection.fetch(query + where, currency))
        applied = "SELECT event_id FROM billing_events_applied WHERE event_id = ANY($1::text[]) ORDER BY 1"
        found["billing_events_applied"] = [row[0] for row in await connection.fetch(applied, event_ids)]
        return found
    finally:
        await connection.close()


async def indexes(settings: AnalyticsSettings) -> list[str]:
    """The schema's indexes and constraints, as they are defined."""
    url = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        found = await connection.fetch(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'analytics' UNION ALL "
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'analytics'::regnamespace ORDER BY 1"
        )
        return [row[0] for row in found]
    finally:
        await connection.close()


async def analyzed_since(settings: AnalyticsSettings, since: datetime) -> set[str]:
    """The schema's tables whose planner statistics were gathered by ANALYZE since `since`."""
    url = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        query = "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'analytics' AND last_analyze >= $1"
        return {row[0] for row in await connection.fetch(query, since)}
    finally:
        await connection.close()


async def answers(api: httpx.AsyncClient, currency: str) -> list[Any]:
    months = {"from": "2025-01", "to": "2025-07", "currency": currency}
    queries = [
        ("/v1/metrics/mrr", months),
        ("/v1/metrics/summary", {"as_of": "2025-06-30", "currency": currency}),
        ("/v1/metrics/summary", {"as_of": "2025-03-17", "currency": currency}),
        ("/v1/metrics/cohorts", months | {"kind": "logo"}),
        ("/v1/metrics/cohorts", months | {"kind": "revenue"}),
        ("/v1/metrics/revenue", months | {"group_by": "month"}),
        ("/v1/metrics/revenue", months | {"group_by": "plan"}),
        ("/v1/metrics/customers", {"currency": currency}),
    ]
    found = []
    for path, params in queries:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


async def test_a_rebuild_gives_identical_answers(
    analytics_api: httpx.AsyncClient, analytics_worker: None, analytics_settings: AnalyticsSettings, history: Any
) -> None:
    a, b = history.customer("2025-01-03"), history.customer("2025-02-11")
    sa = history.subscription(a, "2025-01-03", "starter", 4900)
    history.change(a, sa, "2025-04-20", "pro", 9900)
    sb = history.subscription(b, "2025-02-11", "yearly", 8333, interval="year")
    history.change(b, sb, "2025-05-11", "yearly", 0, status="canceled", change="canceled")
    history.invoice(a, "2025-03-01", 700)
    history.invoice(b, "2025-03-01", 250, paid=False)
    history.invoice(a, "2025-04-01", 400, paid=False)
    finalized = history.events[-2]
    assert isinstance(finalized, InvoiceFinalizedEvent)
    voided = finalized.data.model_copy(
        update={"status": "void", "changed_at": finalized.data.changed_at.replace(day=9)}
    )
    late = [
        InvoiceVoidedEvent.of("evt_void_" + voided.invoice_id, voided, source="test", time=voided.changed_at),
        renamed(history.events[0].data, "2025-06-01", "Acme Renamed"),
        renamed(history.events[0].data, "2025-02-01", "Acme Stale"),  # older than the state it follows
    ]
    history.change(a, sa, "2025-02-20", "growth", 6900)  # after April's change on the topic, before it in time
    history.events += late
    event_ids = sorted(event.id for event in history.events)
    await history.publish()
    await history.publish(history.events[:3])  # delivered twice
    await produce(history.bootstrap, BILLING_EVENTS, [(a.encode(), b'{"type": "tally.invoice.paid", "data": {}}')])

    async def loaded() -> list[Any]:
        assert (await rows(analytics_settings, history.currency, event_ids))["billing_events_applied"] == event_ids
        found = await answers(analytics_api, history.currency)
        assert found[0]["months"][-1]["closing_mrr"] == 9900
        assert len(found[-1]["data"]) == 2
        by_month = {row["key"]: row for row in found[5]["rows"]}
        assert (by_month["2025-03"]["usage"], by_month["2025-03"]["collected"]) == (950, 0)
        return found

    before = await eventually(loaded)
    tables = await rows(analytics_settings, history.currency, event_ids)
    indexes_before = await indexes(analytics_settings)
    assert [row[2] for row in tables["customers"] if row[0] == a] == ["Acme Renamed"]
    assert any(row[4] == 6900 for row in tables["customer_mrr_months"])  # the late change, where its time puts it
    rebuild_began = datetime.now(UTC)
    process = await rebuilding(analytics_settings)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0
    assert b"rebuilt from billing.events.v1" in output
    assert set(TABLES) <= await analyzed_since(analytics_settings, rebuild_began)  # statistics for the new rows
    assert b"mrr_segments" in output
    assert await answers(analytics_api, history.currency) == before
    assert await rows(analytics_settings, history.currency, event_ids) == tables
    assert await indexes(analytics_settings) == indexes_before  # those dropped for the write (keys too) are built again


async def test_events_the_live_consumer_applies_during_a_rebuild_are_kept(
    analytics_worker: None, analytics_settings: AnalyticsSettings, history: Any
) -> None:
    """The rebuild replaces the tables with what it read; what the live consumer applied meanwhile (and committed, so
    it will not apply it again) must be among it: the rebuild catches up before it writes. And a steady flow of
    events must not keep it reading forever."""
    history.customer("2025-01-03")
    await history.publish()
    await eventually(lambda: all_applied(analytics_settings, history))
    process = await rebuilding(analytics_settings)
    published = 1
    while process.returncode is None and published < 400:  # a customer every 20 ms while the rebuild runs
        history.customer("2025-02-01")
        await history.publish(history.events[-1:])
        published += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 0.02)
    _, errors = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, errors
    assert 10 < published < 400  # events arrived while it ran, and it ended without waiting for them to stop
    event_ids = sorted(event.id for event in history.events)

    async def every_event_applied_once() -> None:
        await all_applied(analytics_settings, history)
        assert len((await rows(analytics_settings, history.currency, event_ids))["customers"]) == published

    await eventually(every_event_applied_once, 60)


async def all_applied(settings: AnalyticsSettings, history: Any) -> None:
    event_ids = sorted(event.id for event in history.events)
    assert (await rows(settings, history.currency, event_ids))["billing_events_applied"] == event_ids


async def rebuilding(settings: AnalyticsSettings) -> asyncio.subprocess.Process:
    """`python -m analytics rebuild`, started, as an operator runs it next to the running worker."""
    env = os.environ | {
        "ANALYTICS_DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "ANALYTICS_CONSUMER_GROUP": settings.consumer_group,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "analytics",
        "rebuild",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def renamed(customer: Customer, day: str, name: str) -> CustomerUpdatedEvent:
    data = customer.model_copy(update={"name": name, "updated_at": datetime.fromisoformat(day).replace(tzinfo=UTC)})
    return CustomerUpdatedEvent.of(f"evt_{data.customer_id}_{day}", data, source="test", time=data.updated_at)
