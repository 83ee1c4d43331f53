from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Index, LargeBinary, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class UsageEvent(Base):
    """Every usage event, once: the primary key is the deduplication key."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_customer_type_time", "customer_id", "event_type", "occurred_at"),)

    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeterDailyTotal(Base):
    """A meter's value for one customer, one group and one UTC day, kept current as events arrive. Meters without
    group_by use the group ''. `latest` meters also keep the time and id of the event whose value this is."""

    __tablename__ = "meter_daily_totals"

    meter_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    group_digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)  # sha256(group_key)
    group_key: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Numeric)
    latest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latest_event_id: Mapped[str | None] = mapped_column(String(255))


class MeterDailyDistinct(Base):
    """The distinct values a `unique_count` meter saw for one customer, group and UTC day (by SHA-256 of each
    value's canonical text): a period's count is the number of distinct digests over its days."""

    __tablename__ = "meter_daily_distinct"

    meter_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    group_digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    value_digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    group_key: Mapped[str] = mapped_column(Text)
