from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class PlanVersion(Base):
    """One version of a plan; a change makes a new version, and subscriptions keep the version they are on."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str] = mapped_column(String(10))
    base_price_minor: Mapped[int] = mapped_column(BigInteger)
    trial_days: Mapped[int] = mapped_column(Integer)
    charges: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    entitlements: Mapped[dict[str, Any]] = mapped_column(JSONB)
    allow_multiple_subscriptions: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
