"""Running an import in the background of the api process that accepted it.

It runs there, not in the worker, because the worker would need the API key, and the key must not be stored (a
row or a message would keep it): it lives in this task's memory for the run only. The run beats every few seconds;
an import whose process stopped (a restart, a crash) stops beating and is reported failed, and running it again
continues where it stopped, since everything imported is looked up before anything is made.

Stripe is read outside any transaction; each customer, with his subscriptions, invoices and their events, is
written in one transaction together with the run's counts, so the progress shown is always what is committed."""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.imports import repository, writer
from billing.imports.context import CustomerData, Progress, Run
from billing.imports.schemas import ImportCounts
from billing.imports.stripe_objects import (
    payment_intent_of,
    read_customer,
    read_invoice,
    read_subscription,
)
from billing.payment.money_back import by_payment_intent, dispute_of, refund_of
from billing.payment.stripe_import import ImportFailed, Raw, StripeReader

log = logging.getLogger(__name__)
HEARTBEAT = timedelta(seconds=5)
STALE_AFTER = timedelta(minutes=1)
_running: set["asyncio.Task[None]"] = set()  # strong references: the loop keeps only weak ones


def start(sessions: async_sessionmaker[AsyncSession], run: Run, reader: StripeReader) -> None:
    task = asyncio.create_task(execute(sessions, run, reader), name=f"stripe import {run.import_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)


async def execute(sessions: async_sessionmaker[AsyncSession], run: Run, reader: StripeReader) -> None:
    """The whole run, to its end: succeeded, or failed with the reason."""
    beating = asyncio.create_task(_beat(sessions, run.import_id))
    progress = Progress()
    try:
        async with sessions() as session, session.begin():
            await repository.beat(session, run.import_id, _now(), status="running", started_at=_now())
        await _read_money_back(run, reader)
        async for raw in reader.customers():
            progress = await _one(sessions, run, reader, raw, progress)
        await _finish(sessions, run.import_id, progress, "succeeded", None)
        log.info("stripe import %s succeeded: %s", run.import_id, dict(progress.counts))
    except ImportFailed as exc:
        await _finish(sessions, run.import_id, progress, "failed", str(exc))
        log.warning("stripe import %s failed: %s", run.import_id, exc)
    except Exception as exc:
        await _finish(sessions, run.import_id, progress, "failed", f"{type(exc).__name__}: {exc}"[:1000])
        log.exception("stripe import %s failed", run.import_id)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        await reader.close()


async def _one(
    sessions: async_sessionmaker[AsyncSession], run: Run, reader: StripeReader, raw: Raw, progress: Progress
) -> Progress:
    """One customer: read all of his from Stripe, then write it in one transaction with the counts so far; returns
    the counts with his. A customer whose objects cannot be read (data this import does not expect) is skipped with
    the reason, so that one odd object never blocks the rest of the account."""
    try:
        customer = read_customer(raw)
        subscriptions = [read_subscription(sub) for sub in await reader.subscriptions_of(customer.id)]
        metered = frozenset(item.price_id for sub in subscriptions if sub.plan for item in sub.plan.metered)
        invoices = []
        for found in await reader.invoices_of(customer.id):
            if (found.get("lines") or {}).get("has_more"):  # a list shows the first lines of each invoice only
                found["lines"] = {"data": await reader.invoice_lines(found["id"])}
            invoices.append(read_invoice(found, metered))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        log.warning("stripe import %s: customer %s skipped", run.import_id, raw.get("id"), exc_info=True)
        skipped = Progress()
        skipped.skip("customers", str(raw.get("id")), f"could not be read: {type(exc).__name__}: {exc}"[:500])
        return progress.plus(skipped)
    async with sessions() as session:
        known = await repository.mapped(session, writer.keys(CustomerData(customer, subscriptions, invoices, {}, {})))
    wanted = {
        product
        for sub in subscriptions
        if sub.plan and ("plan", sub.plan.ref) not in known
        for product in sub.plan.products
    }
    names = {product: await reader.product_name(product) for product in sorted(wanted)}
    meters = {
        item.meter: await reader.billing_meter(item.meter)
        for sub in subscriptions
        if sub.plan and ("plan", sub.plan.ref) not in known
        for item in sub.plan.metered
        if item.meter and ("meter", item.meter) not in known
    }
    intents: dict[str, str | None] = {}
    for invoice in invoices:
        if invoice.status == "paid" and not invoice.payment_on_invoice and ("payment", invoice.id) not in known:
            intents[invoice.id] = payment_intent_of(await reader.invoice_payments(invoice.id))
    data = CustomerData(customer, subscriptions, invoices, names, intents, meters)
    mine = Progress()
    async with sessions() as session, session.begin():
        await writer.import_customer(session, data, run, mine)
        total = progress.plus(mine)  # only once committed: the counts are what is in the database
        await repository.beat(session, run.import_id, _now(), counts=_counts(total), skipped=total.skipped)
    return total


async def _read_money_back(run: Run, reader: StripeReader) -> None:
    """The account's refunds and disputes, by the payment intent they give back from: each imported paid invoice
    takes those of its payment."""
    facts = [fact for raw in await reader.refunds() if (fact := refund_of(raw))]
    facts += [dispute_of(raw, run.now) for raw in await reader.disputes()]
    run.money_back.update(by_payment_intent(facts))


def _counts(progress: Progress) -> dict[str, dict[str, int]]:
    counts = ImportCounts()
    for (kind, outcome), number in progress.counts.items():
        setattr(getattr(counts, kind), outcome, number)
    return counts.model_dump()


async def _finish(
    sessions: async_sessionmaker[AsyncSession], import_id: str, progress: Progress, status: str, error: str | None
) -> None:
    now = _now()
    async with sessions() as session, session.begin():
        await repository.beat(
            session,
            import_id,
            now,
            status=status,
            error=error,
            finished_at=now,
            counts=_counts(progress),
            skipped=progress.skipped,
        )


async def _beat(sessions: async_sessionmaker[AsyncSession], import_id: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            async with sessions() as session, session.begin():
                await repository.beat(session, import_id, _now())
        except Exception:  # a beat missed now and then is fine; the run itself reports real failures
            log.warning("stripe import %s: heartbeat failed", import_id, exc_info=True)


def _now() -> datetime:
    return datetime.now(UTC)
