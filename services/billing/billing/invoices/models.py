from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.db import Base


class Invoice(Base):
    """`boundary` is the end of the period a worker closed: unique per subscription, so a period is closed once.
    Invoices written by a request (a subscription's first period, a cancellation or a move to another interval,
    each under the subscription's row lock) have none."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "boundary"),
        Index("ix_invoices_customer", "customer_id", "id"),
        Index("ix_invoices_drafts", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    boundary: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The plan version that priced the period's usage; null on invoices without usage (a first period, a trial).
    usage_plan_version_id: Mapped[str | None] = mapped_column(ForeignKey("plan_versions.id"))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    credits_applied_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    marked_uncollectible_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["InvoiceLine"]] = relationship(order_by="InvoiceLine.position", lazy="selectin")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    meter: Mapped[str | None] = mapped_column(String(100))
    group_key: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingItem(Base):
    """A line waiting for the subscription's next invoice, e.g. a mid-period plan change's proration."""

    __tablename__ = "pending_invoice_items"
    __table_args__ = (Index("ix_pending_items_open", "subscription_id", "invoice_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InvoiceNumberCounter(Base):
    """The last number given each year: finalizing takes the row lock, so numbers have no gaps."""

    __tablename__ = "invoice_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class LateUsageSettlement(Base):
    """The invoice's period has had its late usage put on an adjustment: usage for it arriving later is rejected."""

    __tablename__ = "late_usage_settlements"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    settled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RejectedLateUsage(Base):
    """An event for a period whose late usage was settled already: kept, counted in usage reports, never billed."""

    __tablename__ = "rejected_late_usage"
    __table_args__ = (Index("ix_rejected_late_usage_customer", "customer_id", "recorded_at"),)

    usage_customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    event_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
