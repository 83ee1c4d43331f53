"""Invoice events (topic billing.events.v1, keyed by customer id): finalized (numbered, immutable), then paid,
voided or marked uncollectible. Amounts are integer minor units of `currency`."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import DECIMAL_PATTERN, Currency, CustomerId
from .envelope import CloudEvent, UtcDateTime

INVOICE_FINALIZED = "tally.invoice.finalized"
INVOICE_PAID = "tally.invoice.paid"
INVOICE_VOIDED = "tally.invoice.voided"
INVOICE_MARKED_UNCOLLECTIBLE = "tally.invoice.marked_uncollectible"
INVOICE_ID_PATTERN = r"^inv_[0-9A-Za-z]+$"

# Widening these aliases is backward compatible; removing a value is not.
InvoiceStatus = Literal["finalized", "paid", "void", "uncollectible"]
LineKind = Literal["base_fee", "usage", "credits", "proration", "adjustment", "credit_pack"]


class InvoiceLine(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    kind: LineKind
    meter: str | None = None
    quantity: str | None = Field(default=None, pattern=DECIMAL_PATTERN)
    amount_minor: int
    period_start: UtcDateTime
    period_end: UtcDateTime


class Invoice(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    invoice_id: str = Field(pattern=INVOICE_ID_PATTERN, max_length=255)
    number: str = Field(min_length=1, max_length=40)
    customer_id: CustomerId
    subscription_id: str | None = None
    status: InvoiceStatus
    currency: Currency
    period_start: UtcDateTime
    period_end: UtcDateTime
    subtotal_minor: int
    credits_applied_minor: int = Field(ge=0)
    tax_minor: int = Field(ge=0)
    total_minor: int
    lines: list[InvoiceLine]
    """Usage lines are usage revenue; base fees and prorations are subscription revenue."""
    finalized_at: UtcDateTime
    changed_at: UtcDateTime
    """When this status was reached."""


class InvoiceFinalizedEvent(CloudEvent[Invoice]):
    type: Literal["tally.invoice.finalized"]
    subject: str

    subject_field = "customer_id"


class InvoicePaidEvent(CloudEvent[Invoice]):
    type: Literal["tally.invoice.paid"]
    subject: str

    subject_field = "customer_id"


class InvoiceVoidedEvent(CloudEvent[Invoice]):
    type: Literal["tally.invoice.voided"]
    subject: str

    subject_field = "customer_id"


class InvoiceMarkedUncollectibleEvent(CloudEvent[Invoice]):
    type: Literal["tally.invoice.marked_uncollectible"]
    subject: str

    subject_field = "customer_id"
