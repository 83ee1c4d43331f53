from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.db import Base


class StripeImport(Base):
    """One run of an import from Stripe. `status`: queued, running, succeeded, failed. `counts` is, per kind of
    object, how many were created, found imported already (existing), linked to a Tally object that was there,
    moved on (updated) or skipped; `skipped` says why, for the first few. The API key is never stored."""

    __tablename__ = "stripe_imports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    livemode: Mapped[bool | None] = mapped_column(Boolean)
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSONB)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportedObject(Base):
    """A Stripe object and the Tally object it became (or was linked to): an import looks here first, so running it
    again creates nothing twice. `kind`: customer, plan (stripe_id is the subscription's price refs, see
    stripe_prices.Plan; tally_id the plan key), meter (a Stripe billing meter, or a metered price without one;
    tally_id the meter key), subscription, invoice, payment (of the Stripe invoice named; tally_id is the Tally
    invoice)."""

    __tablename__ = "stripe_import_objects"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tally_id: Mapped[str] = mapped_column(String(255))
    import_id: Mapped[str] = mapped_column(ForeignKey("stripe_imports.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
