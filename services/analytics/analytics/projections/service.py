"""Applying a batch of billing events to the projections in the caller's transaction, each event once.

Subscription events are appended to the change log, then every affected customer's MRR segments and monthly
movements are re-derived from the whole log: late and out-of-order events land where their `effective_at` puts
them, whatever order they arrived in."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Recorded

from analytics.projections import repository, rows
from analytics.projections.decoding import (
    CUSTOMER_EVENTS,
    INVOICE_EVENTS,
    SUBSCRIPTION_EVENTS,
    BillingEvent,
    CustomerEvent,
    InvoiceEvent,
)
from analytics.projections.segments import Policy, month_moves, month_of, segments_of


async def apply_events(session: AsyncSession, events: Sequence[BillingEvent], policy: Policy) -> Recorded:
    unique = list({event.id: event for event in events}.values())
    if not unique:
        return Recorded(events=0, new=0)
    await repository.lock_customers(session, sorted({event.data.customer_id for event in unique}))
    new_ids = await repository.claim_new(session, [event.id for event in unique])
    fresh = [event for event in unique if event.id in new_ids]
    customers = [e for e in fresh if isinstance(e, CUSTOMER_EVENTS)]
    changes = [e for e in fresh if isinstance(e, SUBSCRIPTION_EVENTS)]
    invoices = [e for e in fresh if isinstance(e, INVOICE_EVENTS)]
    payments = [e for e in fresh if not isinstance(e, CUSTOMER_EVENTS + SUBSCRIPTION_EVENTS + INVOICE_EVENTS)]
    await repository.upsert_customers(session, _customer_rows(customers))
    await repository.insert_changes(session, [rows.change_row(e) for e in changes])
    await _apply_invoices(session, invoices)
    await repository.insert_payments(session, [rows.payment_row(e) for e in payments])
    await rederive(session, sorted({e.data.customer_id for e in changes}), policy)
    return Recorded(events=len(events), new=len(fresh))


async def rederive(session: AsyncSession, customer_ids: Sequence[str], policy: Policy) -> None:
    """The caller holds the customers' locks."""
    if not customer_ids:
        return
    changes = await repository.changes_of(session, customer_ids)
    segments = segments_of(changes, policy)
    by_customer: dict[str, list[Any]] = {}
    for segment in segments:
        by_customer.setdefault(segment.customer_id, []).append(segment)
    moves = [m for cid, segs in by_customer.items() for m in month_moves(cid, segs[0].currency, segs)]
    await repository.replace_derived(session, customer_ids, segments, moves)


async def _apply_invoices(session: AsyncSession, events: Sequence[InvoiceEvent]) -> None:
    """Upserts the invoices and their lines, and moves their lines into or out of the monthly revenue totals
    when an invoice starts or stops counting (it counts unless void)."""
    if not events:
        return
    ids = sorted({event.data.invoice_id for event in events})
    before = await repository.invoice_statuses(session, ids)
    unseen = [event for event in events if event.data.invoice_id not in before]  # lines never change
    await repository.upsert_invoices(session, _invoice_rows(events), _line_rows(unseen))
    after = await repository.invoice_statuses(session, ids)
    lines = {event.data.invoice_id: event.data for event in events}
    amounts: dict[tuple[str, date, str], int] = {}
    for invoice_id in ids:
        sign = _counts(after.get(invoice_id)) - _counts(before.get(invoice_id))
        if sign:
            invoice = lines[invoice_id]
            for line in invoice.lines:
                key = (invoice.currency, month_of(line.period_start), line.kind)
                amounts[key] = amounts.get(key, 0) + sign * line.amount_minor
    await repository.add_revenue(session, amounts)


def _counts(status: str | None) -> int:
    return int(status is not None and status != "void")


def _customer_rows(events: Sequence[CustomerEvent]) -> list[rows.Row]:
    """One row per customer: its newest state, created at the earliest state seen."""
    found: dict[str, rows.Row] = {}
    for event in sorted(events, key=lambda e: (e.data.updated_at, e.time)):
        row = rows.customer_row(event)
        earlier = found.get(row["id"])
        if earlier is not None:
            row["created_at"] = min(earlier["created_at"], row["created_at"])
        found[row["id"]] = row
    return list(found.values())


def _invoice_rows(events: Sequence[InvoiceEvent]) -> list[rows.Row]:
    """One row per invoice: its latest status by `changed_at`."""
    return list(
        {row["id"]: row for row in map(rows.invoice_row, sorted(events, key=lambda e: e.data.changed_at))}.values()
    )


def _line_rows(events: Sequence[InvoiceEvent]) -> list[rows.Row]:
    return list(
        {(row["invoice_id"], row["line_no"]): row for event in events for row in rows.line_rows(event)}.values()
    )
