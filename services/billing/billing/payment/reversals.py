"""Recording a refund or a dispute of one of our payments, once by its Stripe id, and announcing it as
`tally.payment.refunded` / `tally.payment.disputed` at the moment it happened in Stripe. The webhook path and the
import both record through here, so one that came both ways is announced once, and partial refunds add up to what
was given back."""

from collections.abc import Iterable

from contracts.payments import PaymentDisputedEvent, PaymentRefundedEvent
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.invoices.models import Invoice
from billing.payment.collection import publish_payment
from billing.payment.models import MoneyBackRecord
from billing.payment.money_back import MoneyBack


async def record(
    session: AsyncSession, invoice: Invoice, fact: MoneyBack, *, attempt: int, payment_intent_id: str | None
) -> bool:
    """True the first time: kept and announced; False when it was recorded before (nothing is done)."""
    values = {
        "stripe_id": fact.stripe_id,
        "kind": fact.kind,
        "invoice_id": invoice.id,
        "amount_minor": fact.amount_minor,
        "currency": fact.currency,
        "occurred_at": fact.at,
    }
    statement = insert(MoneyBackRecord).values(values).on_conflict_do_nothing().returning(MoneyBackRecord.stripe_id)
    if (await session.execute(statement)).scalar_one_or_none() is None:
        return False
    await publish_payment(
        session,
        PaymentRefundedEvent if fact.kind == "refund" else PaymentDisputedEvent,
        invoice,
        fact.at,
        attempt=attempt,
        payment_intent_id=payment_intent_id,
        reason=fact.reason,
        amount_minor=fact.amount_minor,
    )
    return True


async def recorded(session: AsyncSession, stripe_ids: Iterable[str]) -> set[str]:
    """Which of these refunds and disputes are recorded already."""
    wanted = list(set(stripe_ids))
    if not wanted:
        return set()
    query = select(MoneyBackRecord.stripe_id).where(MoneyBackRecord.stripe_id.in_(wanted))
    return set((await session.execute(query)).scalars())
