"""What the credits endpoints read and write. Quantities and unit costs are exact decimal strings (a JSON float is
refused); amounts are integer minor units of the customer's currency."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from billing.api_types import ExactDecimal
from billing.catalog.schemas import KEY_PATTERN
from billing.usage.window import as_utc

MAX_QUANTITY = 10**12
MAX_UNIT_COST_MINOR = 10**6
MAX_ADJUSTMENT_MINOR = 10**12


Moment = Annotated[datetime, AfterValidator(as_utc)]


class PurchaseIn(BaseModel):
    """A credit pack bought outright (paid by card before its units are granted)."""

    model_config = ConfigDict(extra="forbid")

    credit_type: str = Field(pattern=KEY_PATTERN, description="What the units are for, e.g. `sms_campaigns`")
    meter: str = Field(pattern=KEY_PATTERN, description="Key of the meter whose usage the units cover")
    quantity: Annotated[ExactDecimal, Field(gt=0, le=MAX_QUANTITY, description='Units granted, e.g. `"500"`')]
    unit_cost_minor: Annotated[
        ExactDecimal, Field(ge=0, le=MAX_UNIT_COST_MINOR, description='Price of one unit in minor units, e.g. `"2.5"`')
    ]
    expires_at: Moment | None = Field(None, description="Units are usable until (excluding) this; default never")
    description: str | None = Field(None, min_length=1, max_length=500)


class GrantIn(PurchaseIn):
    """Units granted without a payment through Tally (paid elsewhere, or given)."""

    purchased_at: Moment | None = Field(None, description="When the units become usable; default now")


class PurchaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: str
    invoice_id: str = Field(description="The pack's one-off invoice, paid by card")
    status: str = Field(description="`awaiting_payment` (Stripe did not answer yet), `paid` or `declined`")
    grant_id: str | None = Field(description="The units granted, once paid")
    created_at: datetime


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: str
    credit_type: str
    meter: str
    quantity: ExactDecimal
    remaining: ExactDecimal
    unit_cost_minor: ExactDecimal
    amount_minor: int = Field(description="quantity x unit cost, rounded half-up")
    currency: str
    purchased_at: datetime
    expires_at: datetime | None
    expired: bool
    description: str | None
    created_at: datetime


class BalanceAdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: int = Field(
        ge=-MAX_ADJUSTMENT_MINOR,
        le=MAX_ADJUSTMENT_MINOR,
        description="Positive adds credit; negative takes it back, never below a zero balance",
    )
    description: str | None = Field(None, min_length=1, max_length=500)

    @field_validator("amount_minor")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise PydanticCustomError("not_zero", "must not be zero")
        return value


class BalanceTransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reason: str = Field(description="`adjustment`, or `invoice` when applied to one")
    amount_minor: int
    balance_minor: int = Field(description="The balance just after")
    currency: str
    invoice_id: str | None
    description: str | None
    created_at: datetime


class CreditBalance(BaseModel):
    credit_type: str
    meter: str
    remaining: ExactDecimal = Field(description="Units left on the grants live now")
    next_expiry: datetime | None = Field(description="When the first of those units expire; null if none do")


class ConsumptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    grant_id: str
    credit_type: str
    meter: str
    quantity: ExactDecimal
    amount_minor: int = Field(description="quantity x the grant's unit cost, rounded half-up")
    invoice_id: str | None
    consumed_at: datetime


class CreditsOut(BaseModel):
    customer_id: str
    currency: str
    balances: list[CreditBalance]
    grants: list[GrantOut] = Field(description="Newest first")
    consumption: list[ConsumptionOut] = Field(description="Newest first")
    monetary_balance_minor: int
    balance_transactions: list[BalanceTransactionOut] = Field(description="Newest first")
