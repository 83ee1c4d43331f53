"""The Kafka topics, who writes and reads them, and which event types they carry (DESIGN.md section 2)."""

from dataclasses import dataclass

from .api_keys import API_KEY_ISSUED, API_KEY_REVOKED
from .billing import METER_CREATED
from .credits import CREDITS_BALANCE_ADJUSTED, CREDITS_CONSUMED, CREDITS_GRANTED
from .customers import CUSTOMER_CREATED, CUSTOMER_UPDATED
from .entitlements import THRESHOLD_REACHED
from .invoices import INVOICE_FINALIZED, INVOICE_MARKED_UNCOLLECTIBLE, INVOICE_PAID, INVOICE_VOIDED
from .payments import PAYMENT_ACTION_REQUIRED, PAYMENT_DISPUTED, PAYMENT_FAILED, PAYMENT_REFUNDED, PAYMENT_SUCCEEDED
from .subscriptions import SUBSCRIPTION_CANCELED, SUBSCRIPTION_CREATED, SUBSCRIPTION_UPDATED
from .usage import USAGE_BATCH_RECORDED, USAGE_RECORDED

USAGE_EVENTS = "usage.events.v1"
BILLING_EVENTS = "billing.events.v1"
ANALYTICS_ALERTS = "analytics.alerts.v1"
API_KEYS = "gateway.api-keys.v1"
DLQ_PARTITIONS = 1

_DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    """What the message key holds, in words."""
    partitions: int
    retention_ms: int | None
    """None: the broker's default."""
    compacted: bool
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    event_types: tuple[str, ...]


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        name=USAGE_EVENTS,
        key="customer id",
        partitions=6,
        retention_ms=35 * _DAY_MS,
        compacted=False,
        # Product backends may also produce here directly, outside Tally's services.
        producers=("usage-ingest",),
        consumers=("billing", "analytics"),
        event_types=(USAGE_RECORDED, USAGE_BATCH_RECORDED),
    ),
    TopicSpec(
        name=BILLING_EVENTS,
        key="customer id; catalog events (meters, plans): their own id",
        partitions=6,
        retention_ms=None,
        compacted=False,
        producers=("billing",),
        consumers=("analytics", "assistant", "gateway"),
        event_types=(
            METER_CREATED,
            CUSTOMER_CREATED,
            CUSTOMER_UPDATED,
            SUBSCRIPTION_CREATED,
            SUBSCRIPTION_UPDATED,
            SUBSCRIPTION_CANCELED,
            THRESHOLD_REACHED,
            INVOICE_FINALIZED,
            INVOICE_PAID,
            INVOICE_VOIDED,
            INVOICE_MARKED_UNCOLLECTIBLE,
            PAYMENT_SUCCEEDED,
            PAYMENT_FAILED,
            PAYMENT_ACTION_REQUIRED,
            PAYMENT_REFUNDED,
            PAYMENT_DISPUTED,
            CREDITS_GRANTED,
            CREDITS_CONSUMED,
            CREDITS_BALANCE_ADJUSTED,
        ),
    ),
    TopicSpec(
        name=ANALYTICS_ALERTS,
        key="rule id",
        partitions=3,
        retention_ms=None,
        compacted=False,
        producers=("analytics",),
        consumers=("assistant", "gateway"),
        event_types=(),
    ),
    TopicSpec(
        name=API_KEYS,
        key="key id",
        partitions=1,
        retention_ms=None,
        compacted=True,
        producers=("gateway",),
        consumers=("usage-ingest",),
        event_types=(API_KEY_ISSUED, API_KEY_REVOKED),
    ),
)

_BY_NAME = {spec.name: spec for spec in TOPICS}


def dlq_topic(name: str) -> str:
    return f"{name}.dlq"


def all_topic_names() -> list[str]:
    """Every topic followed by its dead-letter topic."""
    return [name for spec in TOPICS for name in (spec.name, dlq_topic(spec.name))]


def topic(name: str) -> TopicSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}") from None
