from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class StripeCustomer(Base):
    """Our customer's twin in Stripe, and the payment method invoices are charged to."""

    __tablename__ = "stripe_customers"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    # The customer's `updated_at` whose name and email Stripe has (payment/details.py).
    details_pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Collection(Base):
    """Collecting one finalized invoice: each attempt pays its Stripe invoice (`stripe_invoice_id`, made once) or
    is one PaymentIntent (one idempotency key per attempt). `status`: due (an attempt is due at next_attempt_at),
    pending (Stripe's answer comes by webhook), paid, failed (retries over), uncollectible, closed, external (Stripe
    collects it itself)."""

    __tablename__ = "payment_collections"
    __table_args__ = (
        Index("ix_payment_collections_due", "next_attempt_at", postgresql_where=text("status = 'due'")),
        Index("ix_payment_collections_intent", "payment_intent_id"),
    )

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255))
    # What we last made of that Stripe invoice: open, paid, void or uncollectible (kept in step with ours).
    stripe_invoice_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StripeEvent(Base):
    """The webhook inbox: each Stripe event once (its id is the key), answered at once and handled by the worker."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_unhandled", "received_at", postgresql_where=text("handled_at IS NULL")),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(200))


class MoneyBackRecord(Base):
    """A refund or dispute of one of our payments, kept once by Stripe's id whichever way it came (a webhook, an
    import): its announcement is made with it, so none is announced twice."""

    __tablename__ = "payment_money_back"

    stripe_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # refund, dispute
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
