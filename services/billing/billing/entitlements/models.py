from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class ThresholdNotice(Base):
    """A limit's 80% or 100% mark reached in one period: the key makes the announcement happen once."""

    __tablename__ = "threshold_notices"

    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    meter: Mapped[str] = mapped_column(String(100), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    percent: Mapped[int] = mapped_column(Integer, primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
