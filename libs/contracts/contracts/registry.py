"""Every event type, the topic it travels on and its model."""

import builtins
from dataclasses import dataclass
from typing import Any

from .api_keys import API_KEY_ISSUED, API_KEY_REVOKED, ApiKeyIssuedEvent, ApiKeyRevokedEvent
from .billing import METER_CREATED, MeterCreatedEvent
from .credits import (
    CREDITS_BALANCE_ADJUSTED,
    CREDITS_CONSUMED,
    CREDITS_GRANTED,
    BalanceAdjustedEvent,
    CreditsConsumedEvent,
    CreditsGrantedEvent,
)
from .customers import CUSTOMER_CREATED, CUSTOMER_UPDATED, CustomerCreatedEvent, CustomerUpdatedEvent
from .entitlements import THRESHOLD_REACHED, ThresholdReachedEvent
from .envelope import CloudEvent
from .invoices import (
    INVOICE_FINALIZED,
    INVOICE_MARKED_UNCOLLECTIBLE,
    INVOICE_PAID,
    INVOICE_VOIDED,
    InvoiceFinalizedEvent,
    InvoiceMarkedUncollectibleEvent,
    InvoicePaidEvent,
    InvoiceVoidedEvent,
)
from .payments import (
    PAYMENT_ACTION_REQUIRED,
    PAYMENT_DISPUTED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    PaymentActionRequiredEvent,
    PaymentDisputedEvent,
    PaymentFailedEvent,
    PaymentRefundedEvent,
    PaymentSucceededEvent,
)
from .subscriptions import (
    SUBSCRIPTION_CANCELED,
    SUBSCRIPTION_CREATED,
    SUBSCRIPTION_UPDATED,
    SubscriptionCanceledEvent,
    SubscriptionCreatedEvent,
    SubscriptionUpdatedEvent,
)
from .topics import API_KEYS, BILLING_EVENTS, USAGE_EVENTS
from .usage import USAGE_BATCH_RECORDED, USAGE_RECORDED, UsageBatchRecordedEvent, UsageRecordedEvent


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    event_cls: builtins.type[CloudEvent[Any]]  # `type` is shadowed by the field above


EVENT_TYPES: dict[str, EventType] = {
    spec.type: spec
    for spec in (
        EventType(USAGE_RECORDED, USAGE_EVENTS, UsageRecordedEvent),
        EventType(USAGE_BATCH_RECORDED, USAGE_EVENTS, UsageBatchRecordedEvent),
        EventType(METER_CREATED, BILLING_EVENTS, MeterCreatedEvent),
        EventType(CUSTOMER_CREATED, BILLING_EVENTS, CustomerCreatedEvent),
        EventType(CUSTOMER_UPDATED, BILLING_EVENTS, CustomerUpdatedEvent),
        EventType(SUBSCRIPTION_CREATED, BILLING_EVENTS, SubscriptionCreatedEvent),
        EventType(SUBSCRIPTION_UPDATED, BILLING_EVENTS, SubscriptionUpdatedEvent),
        EventType(SUBSCRIPTION_CANCELED, BILLING_EVENTS, SubscriptionCanceledEvent),
        EventType(THRESHOLD_REACHED, BILLING_EVENTS, ThresholdReachedEvent),
        EventType(INVOICE_FINALIZED, BILLING_EVENTS, InvoiceFinalizedEvent),
        EventType(PAYMENT_SUCCEEDED, BILLING_EVENTS, PaymentSucceededEvent),
        EventType(PAYMENT_FAILED, BILLING_EVENTS, PaymentFailedEvent),
        EventType(PAYMENT_ACTION_REQUIRED, BILLING_EVENTS, PaymentActionRequiredEvent),
        EventType(PAYMENT_REFUNDED, BILLING_EVENTS, PaymentRefundedEvent),
        EventType(PAYMENT_DISPUTED, BILLING_EVENTS, PaymentDisputedEvent),
        EventType(INVOICE_PAID, BILLING_EVENTS, InvoicePaidEvent),
        EventType(INVOICE_VOIDED, BILLING_EVENTS, InvoiceVoidedEvent),
        EventType(INVOICE_MARKED_UNCOLLECTIBLE, BILLING_EVENTS, InvoiceMarkedUncollectibleEvent),
        EventType(CREDITS_GRANTED, BILLING_EVENTS, CreditsGrantedEvent),
        EventType(CREDITS_CONSUMED, BILLING_EVENTS, CreditsConsumedEvent),
        EventType(CREDITS_BALANCE_ADJUSTED, BILLING_EVENTS, BalanceAdjustedEvent),
        EventType(API_KEY_ISSUED, API_KEYS, ApiKeyIssuedEvent),
        EventType(API_KEY_REVOKED, API_KEYS, ApiKeyRevokedEvent),
    )
}


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}") from None
