"""Every public route the gateway forwards: method, path, the service that owns it, the permission it takes, and
(coarsely) its query parameters, for the OpenAPI document. Add a service's routes here, nowhere else.

`read` for reads, `query` for analytics queries (POSTs that change nothing), `admin` for every change, `ingest` to
send usage. Stripe's webhooks take none: Stripe cannot send our credentials; billing checks their signature."""

from dataclasses import dataclass
from typing import Literal

from gateway.access.permissions import Permission

Upstream = Literal["billing", "ingest", "analytics", "assistant"]
PAGE = ("after", "limit")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    upstream: Upstream
    permission: Permission | None
    tag: str
    query: tuple[str, ...] = ()


def _billing_reads() -> list[Route]:
    reads = [
        ("/v1/meters", "catalog", PAGE),
        ("/v1/meters/{meter_id}", "catalog", ()),
        ("/v1/plans", "catalog", PAGE),
        ("/v1/plans/{key}", "catalog", ("version",)),
        ("/v1/plans/{key}/versions", "catalog", ()),
        ("/v1/customers/{customer_id}/usage", "usage", ("meter", "from", "to")),
        ("/v1/customers", "customers", (*PAGE, "search")),
        ("/v1/customers/{customer_id}", "customers", ()),
        ("/v1/customers/{customer_id}/entitlements", "customers", ()),
        ("/v1/customers/{customer_id}/credits", "credits", ()),
        ("/v1/customers/{customer_id}/late-usage", "invoices", ("limit",)),
        ("/v1/subscriptions", "subscriptions", (*PAGE, "customer_id")),
        ("/v1/subscriptions/{subscription_id}", "subscriptions", ()),
        ("/v1/subscriptions/{subscription_id}/upcoming-invoice", "subscriptions", ()),
        ("/v1/invoices", "invoices", (*PAGE, "customer_id", "status")),
        ("/v1/invoices/{invoice_id}", "invoices", ()),
        ("/v1/invoices/{invoice_id}/payment", "payments", ()),
        ("/v1/imports/{import_id}", "imports", ()),
    ]
    return [Route("GET", path, "billing", "read", tag, query) for path, tag, query in reads]


def _billing_writes() -> list[Route]:
    writes = [
        ("POST", "/v1/meters", "catalog"),
        ("POST", "/v1/plans", "catalog"),
        ("POST", "/v1/plans/{key}/versions", "catalog"),
        ("POST", "/v1/customers", "customers"),
        ("PATCH", "/v1/customers/{customer_id}", "customers"),
        ("POST", "/v1/customers/{customer_id}/credit-grants", "credits"),
        ("POST", "/v1/customers/{customer_id}/balance-adjustments", "credits"),
        ("POST", "/v1/customers/{customer_id}/credit-purchases", "credits"),
        ("POST", "/v1/subscriptions", "subscriptions"),
        ("POST", "/v1/subscriptions/{subscription_id}/change-plan", "subscriptions"),
        ("POST", "/v1/subscriptions/{subscription_id}/cancel", "subscriptions"),
        ("POST", "/v1/invoices/{invoice_id}/finalize", "invoices"),
        ("POST", "/v1/invoices/{invoice_id}/pay", "invoices"),
        ("POST", "/v1/invoices/{invoice_id}/void", "invoices"),
        ("POST", "/v1/invoices/{invoice_id}/mark-uncollectible", "invoices"),
        ("POST", "/v1/customers/{customer_id}/payment-method", "payments"),
        ("POST", "/v1/invoices/{invoice_id}/retry-payment", "payments"),
        ("POST", "/v1/imports/stripe", "imports"),
    ]
    return [Route(method, path, "billing", "admin", tag) for method, path, tag in writes]


def _analytics() -> list[Route]:
    reads = [
        ("/v1/metrics/summary", ("as_of", "currency")),
        ("/v1/metrics/mrr", ("from", "to", "currency")),
        ("/v1/metrics/cohorts", ("by", "kind", "from", "to", "currency")),
        ("/v1/metrics/revenue", ("group_by", "from", "to", "currency")),
        ("/v1/metrics/customers", ("currency", *PAGE)),
        ("/v1/usage/features", ("from", "to", "period", "currency", "retention_days", "min_sample")),
        ("/v1/customers/{customer_id}/usage-trend", ("feature", "from", "to", "period")),
        ("/v1/segments/rfm", ("as_of", "lookback_days", "currency", "segment")),
    ]
    queries = ["/v1/funnels/query", "/v1/attribution/query"]
    return [Route("GET", path, "analytics", "read", "analytics", query) for path, query in reads] + [
        Route("POST", path, "analytics", "query", "analytics") for path in queries
    ]


ROUTES: tuple[Route, ...] = (
    *_billing_reads(),
    *_billing_writes(),
    Route("POST", "/v1/events", "ingest", "ingest", "usage"),
    Route("POST", "/v1/events/batch", "ingest", "ingest", "usage"),
    Route("POST", "/v1/webhooks/stripe", "billing", None, "webhooks"),
    *_analytics(),
    Route("POST", "/v1/assistant/ask", "assistant", "query", "assistant"),
)
