"""What the plans endpoints read and write. Prices are minor units: integers for amounts, decimal strings for unit
prices (fractions allowed, e.g. "0.10" is a tenth of a cent)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, StrictBool
from tally_runtime.pages import NextCursor

from billing.api_types import Currency, ExactDecimal
from billing.catalog.schemas import KEY_PATTERN
from billing.rating.periods import Interval
from billing.rating.pricing import Model


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: ExactDecimal | None = Field(description="Last unit of this tier (inclusive); null for the final open tier")
    unit_price: ExactDecimal = Field(description="Minor units per unit, as a decimal string")
    flat_fee_minor: NonNegativeInt = 0


class Charge(BaseModel):
    """Prices one meter with one model; `included_units` are free each period and the model prices the rest."""

    model_config = ConfigDict(extra="forbid")

    meter: str = Field(pattern=KEY_PATTERN, description="A meter's key")
    model: Model
    unit_price: ExactDecimal | None = Field(None, description="per_unit: minor units per unit")
    tiers: list[Tier] | None = Field(None, description="graduated and volume")
    package_size: int | None = Field(None, description="package: units per started block")
    package_price_minor: NonNegativeInt | None = Field(None, description="package: price of one block")
    flat_fee_minor: NonNegativeInt | None = Field(None, description="flat: the fee once usage is above zero")
    included_units: ExactDecimal = Decimal(0)


Entitlements = dict[Annotated[str, Field(pattern=KEY_PATTERN)], StrictBool | NonNegativeInt]


class PlanVersionIn(BaseModel):
    """A plan's terms; creating or changing a plan writes one of these as a new version."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    currency: Currency
    interval: Interval
    base_price_minor: NonNegativeInt = Field(description="Charged each period in advance")
    trial_days: int = Field(0, ge=0, le=730)
    charges: list[Charge] = Field(default_factory=list, max_length=50)
    entitlements: Entitlements = Field(
        default_factory=dict,
        description="A meter's key with its limit per period, or a feature's name with true/false",
    )
    allow_multiple_subscriptions: bool = Field(False, description="May a customer hold two live subscriptions?")


class PlanIn(PlanVersionIn):
    key: str = Field(pattern=KEY_PATTERN, description="Stable name, e.g. `starter`")


class PlanOut(PlanIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    created_at: datetime


class PlanList(BaseModel):
    data: list[PlanOut]
    next_cursor: NextCursor
