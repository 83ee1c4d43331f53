import random
import string
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from analytics.app import create_app
from analytics.config import AnalyticsSettings
from analytics.worker import create_worker_app
from asgi_lifespan import LifespanManager
from contracts.customers import Customer, CustomerCreatedEvent
from contracts.envelope import CloudEvent, encode_event
from contracts.invoices import Invoice, InvoiceFinalizedEvent, InvoiceLine, InvoicePaidEvent
from contracts.payments import Payment, PaymentFailedEvent
from contracts.subscriptions import (
    Subscription,
    SubscriptionCanceledEvent,
    SubscriptionCreatedEvent,
    SubscriptionUpdatedEvent,
    Terms,
)
from contracts.topics import BILLING_EVENTS, USAGE_EVENTS
from contracts.usage import UsageBatchRecorded, UsageBatchRecordedEvent, UsageItem, usage_recorded
from tally_stack.testing import Infra, produce, serving


@pytest.fixture(scope="session")
def analytics_settings(infra: Infra) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=infra.database_urls["analytics"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"analytics-test-{uuid4().hex[:8]}",
    )


@pytest.fixture(scope="session")
async def analytics_api(analytics_settings: AnalyticsSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(analytics_settings), "http://analytics") as client:
        yield client


@pytest.fixture(scope="session")
async def analytics_worker(
    analytics_settings: AnalyticsSettings, analytics_api: httpx.AsyncClient
) -> AsyncIterator[None]:
    """The worker, consuming in this process (after the api has migrated the schema)."""
    async with LifespanManager(create_worker_app(analytics_settings), startup_timeout=60):  # type: ignore[arg-type]
        yield


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


_UNUSED_CURRENCIES = random.sample([f"Z{a}{b}" for a in string.ascii_uppercase for b in string.ascii_uppercase], 676)


def new_currency() -> str:
    """A currency code of its own keeps a test's metrics apart from every other test's on the shared topic: each of
    the 676 codes is given once per test session (codes drawn at random could be drawn twice)."""
    return _UNUSED_CURRENCIES.pop()


class History:
    """Billing events for one currency, built with the contracts' models and produced onto billing.events.v1."""

    def __init__(self, bootstrap: str, currency: str) -> None:
        self.bootstrap = bootstrap
        self.currency = currency
        self.events: list[CloudEvent[Any]] = []
        self.terms: dict[str, Terms] = {}

    def customer(self, day: str) -> str:
        customer_id = f"cus_{uuid4().hex[:12]}"
        data = Customer(
            customer_id=customer_id,
            external_id=f"ext_{customer_id}",
            name="Acme",
            currency=self.currency,
            tax_rate="0",
            updated_at=at(day),
        )
        self.events.append(CustomerCreatedEvent.of(f"evt_{uuid4().hex}", data, source="test", time=at(day)))
        return customer_id

    def subscription(self, customer_id: str, day: str, plan: str, mrr: int, **terms: Any) -> str:
        subscription_id = f"sub_{uuid4().hex[:12]}"
        self._change(SubscriptionCreatedEvent, customer_id, subscription_id, day, "created", plan, mrr, **terms)
        return subscription_id

    def change(self, customer_id: str, subscription_id: str, day: str, plan: str, mrr: int, **terms: Any) -> None:
        status = terms.pop("status", "active")
        change = terms.pop("change", "plan_changed" if status == "active" else "status_changed")
        event_cls = SubscriptionCanceledEvent if status == "canceled" else SubscriptionUpdatedEvent
        self._change(event_cls, customer_id, subscription_id, day, change, plan, mrr, status=status, **terms)

    def _change(  # noqa: PLR0917 (the parts of a subscription event)
        self,
        event_cls: type[CloudEvent[Any]],
        customer_id: str,
        subscription_id: str,
        day: str,
        change: str,
        plan: str,
        mrr: int,
        *,
        status: str = "active",
        interval: str = "month",
        cancel_at_period_end: bool = False,
    ) -> None:
        terms = Terms(
            plan_key=plan, plan_version=1, status=status, interval=interval, base_price_minor=mrr, mrr_minor=mrr
        )
        data = Subscription(
            subscription_id=subscription_id,
            customer_id=customer_id,
            currency=self.currency,
            terms=terms,
            previous=self.terms.get(subscription_id),
            change=change,
            started_at=at(day),
            current_period_start=at(day),
            current_period_end=at(day),
            cancel_at_period_end=cancel_at_period_end,
            effective_at=at(day),
        )
        self.terms[subscription_id] = terms
        self.events.append(event_cls.of(f"evt_{uuid4().hex}", data, source="test", time=at(day)))

    def invoice(
        self, customer_id: str, day: str, usage_minor: int, *, paid: bool = True, subscription_id: str | None = None
    ) -> str:
        invoice_id = f"inv_{uuid4().hex[:12]}"
        line = InvoiceLine(
            kind="usage", meter="api", quantity="1", amount_minor=usage_minor, period_start=at(day), period_end=at(day)
        )
        data = Invoice(
            invoice_id=invoice_id,
            number=invoice_id[-10:],
            customer_id=customer_id,
            subscription_id=subscription_id,
            status="finalized",
            currency=self.currency,
            period_start=at(day),
            period_end=at(day),
            subtotal_minor=usage_minor,
            credits_applied_minor=0,
            tax_minor=0,
            total_minor=usage_minor,
            lines=[line],
            finalized_at=at(day),
            changed_at=at(day),
        )
        self.events.append(InvoiceFinalizedEvent.of(f"evt_{uuid4().hex}", data, source="test", time=at(day)))
        if paid:
            paid_data = data.model_copy(update={"status": "paid"})
            self.events.append(InvoicePaidEvent.of(f"evt_{uuid4().hex}", paid_data, source="test", time=at(day)))
        else:
            failed = Payment(
                invoice_id=invoice_id,
                customer_id=customer_id,
                amount_minor=usage_minor,
                currency=self.currency,
                attempt=1,
                reason="card_declined",
                occurred_at=at(day),
            )
            self.events.append(PaymentFailedEvent.of(f"evt_{uuid4().hex}", failed, source="test", time=at(day)))
        return invoice_id

    def records(self, events: list[CloudEvent[Any]] | None = None) -> list[tuple[bytes | None, bytes]]:
        return [(str(e.subject).encode(), encode_event(e)) for e in (self.events if events is None else events)]

    async def publish(self, events: list[CloudEvent[Any]] | None = None) -> None:
        await produce(self.bootstrap, BILLING_EVENTS, self.records(events))


@pytest.fixture
def history(infra: Infra) -> History:
    return History(infra.kafka_bootstrap, new_currency())


class UsageFeed:
    """Usage events as a product backend sends them (single or batched, by external id) onto usage.events.v1."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.records: list[tuple[bytes | None, bytes]] = []

    def event(self, customer: str, event_type: str, moment: datetime, event_id: str | None = None) -> str:
        event_id = event_id or f"evt_{uuid4().hex}"
        event = usage_recorded(event_id, customer, event_type, moment, source="test")
        self.records.append((customer.encode(), encode_event(event)))
        return event_id

    def batch(self, customer: str, items: list[tuple[str, datetime]]) -> None:
        """One tally.usage.batch_recorded message: (event type, time) each, with ids of their own."""
        events = [UsageItem(event_id=f"evt_{uuid4().hex}", event_type=t, timestamp=m) for t, m in items]
        data = UsageBatchRecorded(customer_id=customer, events=events)
        message = UsageBatchRecordedEvent.of(f"msg_{uuid4().hex}", data, source="test", time=datetime.now(UTC))
        self.records.append((customer.encode(), encode_event(message)))

    async def publish(self) -> None:
        await produce(self.bootstrap, USAGE_EVENTS, self.records)
        self.records = []


@pytest.fixture
def usage_feed(infra: Infra) -> UsageFeed:
    return UsageFeed(infra.kafka_bootstrap)


_QUIET_WEEKS = 26
_UNUSED_QUIET_MONDAYS = random.sample(
    [date(1995, 1, 2) + timedelta(weeks=w) for w in range(0, 52 * 20, _QUIET_WEEKS)], 52 * 20 // _QUIET_WEEKS
)


@pytest.fixture
def quiet_monday() -> date:
    """A Monday in 1995-2014 whose following 26 weeks no other test of the session is given: whole-population
    questions (adoption, funnels, RFM) over them see only this test's customers. Mondays drawn at random could
    fall within weeks of each other, which made adoption count another test's customers."""
    return _UNUSED_QUIET_MONDAYS.pop()
