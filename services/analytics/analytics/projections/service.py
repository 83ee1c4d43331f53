"""Applying a batch of billing events to the projections in the caller's transaction, each event once.

Subscription events are appended to the change log, then every affected customer's MRR segments and monthly
movements are re-derived from the whole log: late and out-of-order events land where their `effective_at` puts
them, whatever order they arrived in."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from contracts.customers import CUSTOMER_CREATED
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Recorded

from analytics.projections import repository
from analytics.projections.decoding import (
    CUSTOMER_EVENTS,
    INVOICE_EVENTS,
    SUBSCRIPTION_EVENTS,
    BillingEvent,
    CustomerEvent,
    InvoiceEvent,
    PaymentEvent,
    SubscriptionEvent,
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
    await repository.insert_changes(session, [_change_row(e) for e in changes])
    await _apply_invoices(session, invoices)
    await repository.insert_payments(session, [_payment_row(e) for e in payments])
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


def _customer_rows(events: Sequence[CustomerEvent]) -> list[dict[str, Any]]:
    """One row per customer: its newest state, created at its creation (or the earliest state seen)."""
    rows: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: (e.data.updated_at, e.time)):
        data = event.data
        created = data.updated_at if event.type == CUSTOMER_CREATED else None
        earlier = rows.get(data.customer_id, {}).get("created_at")
        rows[data.customer_id] = {
            "id": data.customer_id,
            "external_id": data.external_id,
            "name": data.name,
            "email": data.email,
            "currency": data.currency,
            "metadata": data.metadata,
            "created_at": min(t for t in (earlier, created, data.updated_at) if t is not None),
            "updated_at": data.updated_at,
        }
    return list(rows.values())


def _change_row(event: SubscriptionEvent) -> dict[str, Any]:
    data = event.data
    return {
        "event_id": event.id,
        "subscription_id": data.subscription_id,
        "customer_id": data.customer_id,
        "currency": data.currency,
        "change": data.change,
        "status": data.terms.status,
        "previous_status": data.previous.status if data.previous else None,
        "plan_key": data.terms.plan_key,
        "plan_version": data.terms.plan_version,
        "interval": data.terms.interval,
        "base_price_minor": data.terms.base_price_minor,
        "mrr_minor": data.terms.mrr_minor,
        "cancel_at_period_end": data.cancel_at_period_end,
        "started_at": data.started_at,
        "trial_end": data.trial_end,
        "current_period_end": data.current_period_end,
        "effective_at": data.effective_at,
        "event_time": event.time,
    }


def _invoice_rows(events: Sequence[InvoiceEvent]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e.data.changed_at):
        d = event.data
        rows[d.invoice_id] = {
            "id": d.invoice_id,
            "number": d.number,
            "customer_id": d.customer_id,
            "subscription_id": d.subscription_id,
            "status": d.status,
            "currency": d.currency,
            "period_start": d.period_start,
            "period_end": d.period_end,
            "subtotal_minor": d.subtotal_minor,
            "credits_applied_minor": d.credits_applied_minor,
            "tax_minor": d.tax_minor,
            "total_minor": d.total_minor,
            "finalized_at": d.finalized_at,
            "changed_at": d.changed_at,
        }
    return list(rows.values())


def _line_rows(events: Sequence[InvoiceEvent]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for event in events:
        invoice_id = event.data.invoice_id
        for number, line in enumerate(event.data.lines):
            rows[invoice_id, number] = {
                "invoice_id": invoice_id,
                "line_no": number,
                "kind": line.kind,
                "meter": line.meter,
                "quantity": Decimal(line.quantity) if line.quantity is not None else None,
                "amount_minor": line.amount_minor,
                "period_start": line.period_start,
                "period_end": line.period_end,
            }
    return list(rows.values())


def _payment_row(event: PaymentEvent) -> dict[str, Any]:
    data = event.data
    return data.model_dump(exclude={"payment_intent_id", "next_attempt_at"}) | {
        "event_id": event.id,
        "outcome": event.type.rsplit(".", 1)[1],
    }
