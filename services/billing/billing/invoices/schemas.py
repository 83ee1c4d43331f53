from datetime import datetime
from typing import Literal

from contracts.invoices import LineKind
from pydantic import BaseModel, ConfigDict, Field
from tally_runtime.pages import NextCursor

from billing.api_types import ExactDecimal

Status = Literal["draft", "finalized", "paid", "void", "uncollectible"]


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: LineKind
    description: str
    meter: str | None
    group: str | None = Field(validation_alias="group_key")
    quantity: ExactDecimal | None
    amount_minor: int
    period_start: datetime
    period_end: datetime


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str | None = Field(description="null on an upcoming invoice")
    number: str | None = Field(description="Given when the invoice is finalized")
    customer_id: str
    subscription_id: str | None
    status: Status | Literal["upcoming"]
    currency: str
    period_start: datetime
    period_end: datetime
    lines: list[LineOut]
    subtotal_minor: int
    credits_applied_minor: int
    tax_minor: int
    total_minor: int
    created_at: datetime | None = None
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None


class InvoiceList(BaseModel):
    data: list[InvoiceOut]
    next_cursor: NextCursor


class RejectedUsageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    invoice_id: str = Field(description="The invoice of the period the event belongs to, settled before it came")


class RejectedUsageList(BaseModel):
    data: list[RejectedUsageOut]
