"""`python -m analytics rebuild`: apply billing.events.v1 again from its beginning under a fresh consumer group and
replace the billing projections with the result. The projections are a pure function of the topic, so the result
is the one the live consumer reached (as long as the ANALYTICS_ policy settings are unchanged).

The topic is fetched by a process of its own (`fetching.py`) and folded in memory by the live consumer's rules
(`fold.py`), each message read fast where that reading is sure to match the live consumer's (`facts.py`). Then one
transaction stops the live consumer from applying anything, reads what came meanwhile (at least every event the live
consumer applied since the rebuild began), empties the tables and writes them with COPY (the indexes that back no
constraint built again after): the old answers are served until it commits, and an event the live consumer applies
later finds itself applied already, or is new."""

import asyncio
import gc
import time
from collections.abc import Awaitable
from dataclasses import dataclass, fields
from uuid import uuid4

from contracts.envelope import ContractError
from contracts.topics import BILLING_EVENTS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.config import AnalyticsSettings
from analytics.projections import models, repository
from analytics.projections.decoding import Ignored
from analytics.projections.facts import (
    CHANGE_COLUMNS,
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    PAYMENT_COLUMNS,
    fact_of,
)
from analytics.projections.fetching import Fetcher, Values, fetching
from analytics.projections.fold import Derived, Folded
from analytics.projections.segments import MonthMove, Segment

CATCH_UP_S = 30.0


@dataclass
class Rebuilt:
    records: int = 0
    applied: int = 0
    ignored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rows: dict[str, int] | None = None


async def rebuild(
    settings: AnalyticsSettings, sessions: async_sessionmaker[AsyncSession], topic: str = BILLING_EVENTS
) -> Rebuilt:
    """`topic`: billing.events.v1, or a copy of it (benchmarks)."""
    started = time.perf_counter()
    result, folded = Rebuilt(), Folded()
    group = f"{settings.consumer_group}-rebuild-{uuid4().hex[:8]}"
    # Millions of long-lived objects and no cycles: the cyclic collector would only slow the replay.
    gc.disable()
    try:
        with fetching(settings.kafka_bootstrap_servers, topic, group) as fetcher:
            async with sessions() as session:  # while the fetching process connects; it reads on well past this
                began = await repository.database_now(session)
            fold = _Folding(result, folded)
            result.records = await asyncio.to_thread(fetcher.drain, fold)
            async with sessions() as session, session.begin():
                await repository.relax_commit(session)
                await repository.lock_out_consumers(session)
                applied_meanwhile = await repository.applied_since(session, began)
                result.records += await _catch_up(fetcher, fold, folded, applied_meanwhile)
                derived = asyncio.ensure_future(asyncio.to_thread(folded.derive, settings.policy()))
                await repository.truncate_all(session)
                async with repository.indexes_built_after(session):
                    await _write(session, folded, derived)
        async with sessions() as session, session.begin():
            await repository.analyze_all(session)
    finally:
        gc.enable()
    result.seconds = time.perf_counter() - started
    async with sessions() as session:
        result.rows = await repository.counts(session)
    return result


async def _catch_up(fetcher: Fetcher, fold: "_Folding", folded: Folded, applied: set[str]) -> int:
    """Reads what came since the end last fetched, and on until every event the live consumer applied meanwhile is
    found: the broker's end may be known late, the database's record of what was applied is sure."""
    records, deadline = await asyncio.to_thread(fetcher.drain, fold, unless_at_end=True), time.monotonic() + CATCH_UP_S
    while True:
        missing = folded.unseen(applied)
        if not missing:
            return records
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(missing)} events the live consumer applied were not found on the topic")
        records += await asyncio.to_thread(fetcher.drain, fold)


class _Folding:
    """Reads each batch's values into facts and folds them, in arrival order."""

    def __init__(self, result: Rebuilt, folded: Folded) -> None:
        self._result, self._add = result, folded.add

    def __call__(self, values: Values) -> None:
        add, applied, ignored, rejected = self._add, 0, 0, 0
        for value in values:
            try:
                fact = fact_of(value)
            except ContractError:
                rejected += 1  # the live consumer sent it to the DLQ already
                continue
            if isinstance(fact, Ignored):
                ignored += 1
            elif add(fact):
                applied += 1
        self._result.applied += applied
        self._result.ignored += ignored
        self._result.rejected += rejected


async def _write(session: AsyncSession, folded: Folded, deriving: Awaitable[Derived]) -> None:
    await repository.copy_strings(session, models.applied_events, "event_id", folded.applied)
    customers = ((*row[:5], repository.json_text(row[5]), *row[6:]) for row in folded.customers.values())
    await repository.copy_rows(session, models.customers, CUSTOMER_COLUMNS, customers)
    await repository.copy_rows(session, models.subscription_changes, CHANGE_COLUMNS, folded.changes)
    await repository.copy_rows(session, models.invoices, INVOICE_COLUMNS, folded.invoices.values())
    await repository.copy_rows(session, models.invoice_lines, LINE_COLUMNS, folded.line_rows())
    await repository.copy_rows(session, models.payments, PAYMENT_COLUMNS, folded.payments)
    derived = await deriving
    segments = (tuple(vars(s).values()) for s in derived.segments)
    await repository.copy_rows(session, models.mrr_segments, _names(Segment), segments)
    moves = (tuple(vars(m).values()) for m in derived.moves)
    await repository.copy_rows(session, models.customer_mrr_months, _names(MonthMove), moves)
    revenue_columns = ("currency", "month", "kind", "amount_minor")
    await repository.copy_rows(session, models.revenue_months, revenue_columns, derived.revenue)


def _names(cls: type[Segment | MonthMove]) -> list[str]:
    return [f.name for f in fields(cls)]


def describe(result: Rebuilt) -> str:
    rate = result.records / result.seconds if result.seconds else 0.0
    rows = ", ".join(f"{name} {count:,}" for name, count in (result.rows or {}).items())
    return (
        f"rebuilt from {BILLING_EVENTS}: {result.records:,} records ({result.applied:,} applied, "
        f"{result.ignored:,} of other types, {result.rejected:,} undecodable) in {result.seconds:.1f} s "
        f"({rate:,.0f} records/s)\nrows: {rows}"
    )
