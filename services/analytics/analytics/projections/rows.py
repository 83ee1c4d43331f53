"""Pure: the table rows one billing event gives, as the live consumer writes them. The rebuild's fast reader
(`facts.py`) must give exactly these (a test compares them)."""

from decimal import Decimal
from typing import Any

from analytics.projections.decoding import CustomerEvent, InvoiceEvent, PaymentEvent, SubscriptionEvent

Row = dict[str, Any]


def customer_row(event: CustomerEvent) -> Row:
    """`created_at`: this event's `updated_at`; merging rows keeps the earliest."""
    data = event.data
    return {
        "id": data.customer_id,
        "external_id": data.external_id,
        "name": data.name,
        "email": data.email,
        "currency": data.currency,
        "metadata": data.metadata,
        "created_at": data.updated_at,
        "updated_at": data.updated_at,
    }


def change_row(event: SubscriptionEvent) -> Row:
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


def invoice_row(event: InvoiceEvent) -> Row:
    d = event.data
    return {
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


def line_rows(event: InvoiceEvent) -> list[Row]:
    invoice_id = event.data.invoice_id
    return [
        {
            "invoice_id": invoice_id,
            "line_no": number,
            "kind": line.kind,
            "meter": line.meter,
            "quantity": Decimal(line.quantity) if line.quantity is not None else None,
            "amount_minor": line.amount_minor,
            "period_start": line.period_start,
            "period_end": line.period_end,
        }
        for number, line in enumerate(event.data.lines)
    ]


def payment_row(event: PaymentEvent) -> Row:
    data = event.data
    return data.model_dump(exclude={"payment_intent_id", "next_attempt_at"}) | {
        "event_id": event.id,
        "outcome": event.type.rsplit(".", 1)[1],
    }
