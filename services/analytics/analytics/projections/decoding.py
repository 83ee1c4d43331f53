"""Pure: one message of billing.events.v1 -> the event analytics projects, or Ignored for the types it does not
need (meters, credits, thresholds, and types added to the topic later). Undecodable or invalid -> ContractError."""

from dataclasses import dataclass
from typing import Annotated, Any, get_args

from contracts.customers import CustomerCreatedEvent, CustomerUpdatedEvent
from contracts.envelope import ContractError, error_reason
from contracts.invoices import (
    InvoiceFinalizedEvent,
    InvoiceMarkedUncollectibleEvent,
    InvoicePaidEvent,
    InvoiceVoidedEvent,
)
from contracts.payments import (
    PaymentActionRequiredEvent,
    PaymentDisputedEvent,
    PaymentFailedEvent,
    PaymentRefundedEvent,
    PaymentSucceededEvent,
)
from contracts.registry import EVENT_TYPES
from contracts.subscriptions import SubscriptionCanceledEvent, SubscriptionCreatedEvent, SubscriptionUpdatedEvent
from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import from_json

CustomerEvent = CustomerCreatedEvent | CustomerUpdatedEvent
SubscriptionEvent = SubscriptionCreatedEvent | SubscriptionUpdatedEvent | SubscriptionCanceledEvent
InvoiceEvent = InvoiceFinalizedEvent | InvoicePaidEvent | InvoiceVoidedEvent | InvoiceMarkedUncollectibleEvent
PaymentEvent = (
    PaymentSucceededEvent
    | PaymentFailedEvent
    | PaymentActionRequiredEvent
    | PaymentRefundedEvent
    | PaymentDisputedEvent
)
BillingEvent = CustomerEvent | SubscriptionEvent | InvoiceEvent | PaymentEvent
CUSTOMER_EVENTS = (CustomerCreatedEvent, CustomerUpdatedEvent)
SUBSCRIPTION_EVENTS = (SubscriptionCreatedEvent, SubscriptionUpdatedEvent, SubscriptionCanceledEvent)
INVOICE_EVENTS = (InvoiceFinalizedEvent, InvoicePaidEvent, InvoiceVoidedEvent, InvoiceMarkedUncollectibleEvent)

_ADAPTER: TypeAdapter[BillingEvent] = TypeAdapter(Annotated[BillingEvent, Field(discriminator="type")])
PROJECTED = frozenset(name for name, spec in EVENT_TYPES.items() if spec.event_cls in get_args(BillingEvent))


@dataclass(frozen=True)
class Ignored:
    type: str


def decode_billing(raw: bytes) -> BillingEvent | Ignored:
    try:
        envelope: Any = from_json(raw)
    except ValueError as exc:
        raise ContractError(f"not JSON: {exc}") from exc
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    if not isinstance(event_type, str):
        raise ContractError("type: a CloudEvent needs a string type")
    if event_type not in PROJECTED:
        return Ignored(event_type)
    try:
        return _ADAPTER.validate_python(envelope)
    except ValidationError as exc:
        raise ContractError(error_reason(exc)) from exc
