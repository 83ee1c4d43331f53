"""Payment events (topic billing.events.v1, keyed by customer id): each attempt to collect an invoice, and its end."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import Currency, CustomerId
from .envelope import CloudEvent, UtcDateTime
from .invoices import INVOICE_ID_PATTERN

PAYMENT_SUCCEEDED = "tally.payment.succeeded"
PAYMENT_FAILED = "tally.payment.failed"
PAYMENT_ACTION_REQUIRED = "tally.payment.action_required"
PAYMENT_REFUNDED = "tally.payment.refunded"
PAYMENT_DISPUTED = "tally.payment.disputed"


class Payment(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    invoice_id: str = Field(pattern=INVOICE_ID_PATTERN, max_length=255)
    customer_id: CustomerId
    subscription_id: str | None = None
    amount_minor: int = Field(ge=0)
    """The invoice's total; for a refund or a dispute, that one's amount (a payment refunded in parts has an event per
    refund)."""
    currency: Currency
    attempt: int = Field(ge=1)
    payment_intent_id: str | None = None
    """Stripe's PaymentIntent of this attempt, when Stripe made one."""
    reason: str | None = Field(default=None, max_length=500)
    """Why it failed, e.g. "card_declined"."""
    next_attempt_at: UtcDateTime | None = None
    """When it is tried again; absent when the retries are over."""
    occurred_at: UtcDateTime


class PaymentSucceededEvent(CloudEvent[Payment]):
    type: Literal["tally.payment.succeeded"]
    subject: str

    subject_field = "customer_id"


class PaymentFailedEvent(CloudEvent[Payment]):
    type: Literal["tally.payment.failed"]
    subject: str

    subject_field = "customer_id"


class PaymentActionRequiredEvent(CloudEvent[Payment]):
    """The customer must act (e.g. 3-D Secure) before the payment can go through."""

    type: Literal["tally.payment.action_required"]
    subject: str

    subject_field = "customer_id"


class PaymentRefundedEvent(CloudEvent[Payment]):
    type: Literal["tally.payment.refunded"]
    subject: str

    subject_field = "customer_id"


class PaymentDisputedEvent(CloudEvent[Payment]):
    type: Literal["tally.payment.disputed"]
    subject: str

    subject_field = "customer_id"
