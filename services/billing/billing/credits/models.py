from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Numeric, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class CreditGrant(Base):
    """Prepaid units of one credit type covering one meter's usage, live from `purchased_at` until `expires_at`
    (excluded; never expires when null). `remaining` goes down as invoices consume the units."""

    __tablename__ = "credit_grants"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="credit_grants_quantity_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="credit_grants_remaining_within_quantity"),
        CheckConstraint("unit_cost_minor >= 0", name="credit_grants_unit_cost_not_negative"),
        CheckConstraint("expires_at IS NULL OR expires_at > purchased_at", name="credit_grants_expiry_after_purchase"),
        Index("ix_credit_grants_customer", "customer_id", "id"),
        Index("ix_credit_grants_spendable", "customer_id", "meter", postgresql_where=text("remaining > 0")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    credit_type: Mapped[str] = mapped_column(String(100))
    meter: Mapped[str] = mapped_column(ForeignKey("meters.key"))
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    remaining: Mapped[Decimal] = mapped_column(Numeric)
    unit_cost_minor: Mapped[Decimal] = mapped_column(Numeric)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purchased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def expired_at(self, moment: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment


class CreditConsumption(Base):
    """Units taken from one grant to cover a meter's usage, on an invoice when `invoice_id` is set. The type and
    meter repeat the grant's so the history reads on its own."""

    __tablename__ = "credit_consumptions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="credit_consumptions_quantity_positive"),
        Index("ix_credit_consumptions_customer", "customer_id", "id"),
        Index("ix_credit_consumptions_grant", "grant_id"),
        Index("ix_credit_consumptions_invoice", "invoice_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("credit_grants.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    credit_type: Mapped[str] = mapped_column(String(100))
    meter: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # No foreign key: the invoice builder may record consumption before it writes the invoice row.
    invoice_id: Mapped[str | None] = mapped_column(String(40))
    consumed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BalanceTransaction(Base):
    """One change of a customer's monetary balance (minor units of the customer's currency): the balance is the
    sum of `amount_minor`; `balance_minor` is that sum just after this row, never below zero."""

    __tablename__ = "customer_balance_transactions"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="customer_balance_transactions_amount_not_zero"),
        CheckConstraint("balance_minor >= 0", name="customer_balance_transactions_balance_not_negative"),
        Index("ix_customer_balance_transactions_customer", "customer_id", "id"),
        Index("ix_customer_balance_transactions_invoice", "invoice_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreditPurchase(Base):
    """A credit pack bought with a one-off invoice: its grant is made when the invoice is paid, once.
    `status`: awaiting_payment, paid, declined."""

    __tablename__ = "credit_purchases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), unique=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the grant to make: GrantIn without purchased_at
    status: Mapped[str] = mapped_column(String(20))
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("credit_grants.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
