from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.db import Base
from billing.plans.models import PlanVersion


class Subscription(Base):
    """A customer on one plan version. Periods run from `billing_anchor` (the trial's end, else the start) by the
    plan's interval; `current_period_*` is the period open now, and the worker closes it at its end."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_customer", "customer_id"),
        Index("ix_subscriptions_due", "current_period_end", postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    plan_version_id: Mapped[str] = mapped_column(ForeignKey("plan_versions.id"))
    scheduled_plan_version_id: Mapped[str | None] = mapped_column(ForeignKey("plan_versions.id"))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    trial_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    billing_anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    current_period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    plan: Mapped[PlanVersion] = relationship(foreign_keys=[plan_version_id], lazy="joined")
    scheduled_plan: Mapped[PlanVersion | None] = relationship(foreign_keys=[scheduled_plan_version_id], lazy="joined")
