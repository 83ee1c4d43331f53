from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from billing.api_types import Currency


def _stripe_key(key: SecretStr) -> SecretStr:
    value = key.get_secret_value()
    if not value.startswith(("sk_", "rk_")) or len(value) < 8 or any(c.isspace() for c in value):
        raise ValueError("must be a Stripe secret key (sk_...) or restricted key (rk_...) with read access")
    return key


class StripeImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: Annotated[SecretStr, AfterValidator(_stripe_key)] = Field(
        description="Held in memory for the run only: never stored, never logged"
    )
    api_base: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        max_length=255,
        description="Default: billing's BILLING_STRIPE_API_BASE (the real Stripe when that is empty)",
    )
    default_currency: Currency = Field(
        "USD", description="For a customer with no currency in Stripe (no subscription, no invoice)"
    )


class KindCounts(BaseModel):
    created: int = 0
    existing: int = Field(0, description="Imported by an earlier run: left as it is")
    linked: int = Field(0, description="Matched to a Tally object that was there already")
    updated: int = Field(0, description="Imported before and moved on since in Stripe (an invoice paid, voided)")
    skipped: int = 0


class ImportCounts(BaseModel):
    customers: KindCounts = Field(default_factory=KindCounts)
    meters: KindCounts = Field(default_factory=KindCounts)
    plans: KindCounts = Field(default_factory=KindCounts)
    subscriptions: KindCounts = Field(default_factory=KindCounts)
    invoices: KindCounts = Field(default_factory=KindCounts)
    payments: KindCounts = Field(default_factory=KindCounts)
    refunds: KindCounts = Field(default_factory=KindCounts)
    disputes: KindCounts = Field(default_factory=KindCounts)


class SkippedOut(BaseModel):
    kind: str
    stripe_id: str
    reason: str


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    source: Literal["stripe"] = "stripe"
    status: Literal["queued", "running", "succeeded", "failed"]
    livemode: bool | None = Field(description="Whether the key was a live one (sk_live_, rk_live_)")
    counts: ImportCounts
    skipped: list[SkippedOut] = Field(
        description="Why objects were skipped, or imported otherwise than Stripe has them (the first 200)"
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
