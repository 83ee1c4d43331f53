"""The billing projections (revision 0002) as Core tables: they are written in bulk and read by aggregate SQL."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Identity, Integer, Numeric, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from analytics.db import metadata


def _moment(name: str, nullable: bool = False) -> "Column[datetime]":
    return Column(name, DateTime(timezone=True), nullable=nullable)


applied_events = Table(
    "billing_events_applied",
    metadata,
    Column("event_id", String(255), primary_key=True),
    _moment("applied_at"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("external_id", String(255)),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("currency", String(3), nullable=False),
    Column("metadata", JSONB(), nullable=False),
    _moment("created_at"),
    _moment("updated_at"),
)

subscription_changes = Table(
    "subscription_changes",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("subscription_id", String(255), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("change", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("plan_key", String(100), nullable=False),
    Column("plan_version", Integer(), nullable=False),
    Column("interval", String(10), nullable=False),
    Column("base_price_minor", BigInteger(), nullable=False),
    Column("mrr_minor", BigInteger(), nullable=False),
    Column("cancel_at_period_end", Boolean(), nullable=False),
    _moment("started_at"),
    _moment("trial_end", nullable=True),
    _moment("current_period_end"),
    _moment("effective_at"),
    _moment("event_time"),
)

mrr_segments = Table(
    "mrr_segments",
    metadata,
    Column("id", BigInteger(), Identity(), primary_key=True),
    Column("customer_id", String(255), nullable=False),
    Column("subscription_id", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("plan_key", String(100), nullable=False),
    Column("interval", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    _moment("valid_from"),
    _moment("valid_to", nullable=True),
    Column("mrr_minor", BigInteger(), nullable=False),
)

customer_mrr_months = Table(
    "customer_mrr_months",
    metadata,
    Column("customer_id", String(255), primary_key=True),
    Column("month", Date(), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("opening_mrr_minor", BigInteger(), nullable=False),
    Column("closing_mrr_minor", BigInteger(), nullable=False),
    Column("movement", String(20), nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("number", String(40), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("subscription_id", String(255)),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    _moment("period_start"),
    _moment("period_end"),
    Column("subtotal_minor", BigInteger(), nullable=False),
    Column("credits_applied_minor", BigInteger(), nullable=False),
    Column("tax_minor", BigInteger(), nullable=False),
    Column("total_minor", BigInteger(), nullable=False),
    _moment("finalized_at"),
    _moment("changed_at"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(255), primary_key=True),
    Column("line_no", Integer(), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("meter", String(255)),
    Column("quantity", Numeric()),
    Column("amount_minor", BigInteger(), nullable=False),
    _moment("period_start"),
    _moment("period_end"),
)

payments = Table(
    "payments",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("outcome", String(30), nullable=False),
    Column("invoice_id", String(255), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("subscription_id", String(255)),
    Column("amount_minor", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("attempt", Integer(), nullable=False),
    Column("reason", String(500)),
    _moment("occurred_at"),
)

revenue_months = Table(
    "revenue_months",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("month", Date(), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("amount_minor", BigInteger(), nullable=False),
)

PROJECTIONS = (
    applied_events,
    customers,
    subscription_changes,
    mrr_segments,
    customer_mrr_months,
    invoices,
    invoice_lines,
    revenue_months,
    payments,
)
"""Every table a rebuild empties."""
