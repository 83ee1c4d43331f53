"""Pure: one message of billing.events.v1 -> the table rows it gives (a Fact), read fast for the rebuild.

It never accepts what the live consumer's pydantic decoding (`decoding.decode_billing`) would reject, nor reads a
value differently: a message passes only when it satisfies the JSON Schema generated from the same contract
models (formats checked), its subject is its customer, and every timestamp is plain RFC 3339 with at most
microseconds. Anything else is read by pydantic instead (`fact_of`), so the two paths give the same facts."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import jsonschema_rs
import orjson
from contracts.schemas import generate_schemas
from sqlalchemy import Table

from analytics.projections import models, rows
from analytics.projections.decoding import (
    CUSTOMER_EVENTS,
    INVOICE_EVENTS,
    PROJECTED,
    SUBSCRIPTION_EVENTS,
    BillingEvent,
    Ignored,
    decode_billing,
)


def _columns(table: Table) -> tuple[str, ...]:
    """A fact's row holds its table's columns, in the table's order (the readers below build them so)."""
    return tuple(column.name for column in table.columns)


CUSTOMER_COLUMNS = _columns(models.customers)
CHANGE_COLUMNS = _columns(models.subscription_changes)
INVOICE_COLUMNS = _columns(models.invoices)
LINE_COLUMNS = _columns(models.invoice_lines)
PAYMENT_COLUMNS = _columns(models.payments)

Row = tuple[Any, ...]


class Fact(NamedTuple):
    table: str  # customers, subscription_changes, invoices or payments
    event_id: str
    row: Row
    lines: tuple[Row, ...] = ()  # an invoice's lines


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
_MOMENTS_KEPT = 100_000


class _Moments(dict[str, datetime]):
    """Timestamp text -> UTC datetime, each text parsed once (a hit costs no Python call). Only what pydantic reads
    the same (UtcDateTime); OverflowError: pydantic fails on it as well."""

    def __missing__(self, text: str) -> datetime:
        if not _RFC3339.fullmatch(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text).astimezone(UTC)
        if len(self) < _MOMENTS_KEPT:
            self[text] = moment
        return moment


_moment = _Moments().__getitem__


def _maybe_moment(text: str | None) -> datetime | None:
    return None if text is None else _moment(text)


@cache
def _validators() -> dict[str, Any]:
    schemas = generate_schemas()
    return {name: jsonschema_rs.validator_for(schemas[name], validate_formats=True) for name in PROJECTED}


def read_fact(raw: bytes) -> Fact | Ignored | None:
    """The message's fact, Ignored for a type analytics does not project, or None when only pydantic can tell."""
    try:
        envelope = orjson.loads(raw)
        event_type = envelope["type"]
        kind = _kinds().get(event_type)
    except (orjson.JSONDecodeError, TypeError, KeyError):  # not JSON, not an object, no or an unhashable type
        return None
    if kind is None:
        return Ignored(event_type) if type(event_type) is str else None
    validator, reader = kind
    if not validator.is_valid(envelope) or envelope.get("subject") != (data := envelope["data"])["customer_id"]:
        return None
    try:
        return reader(envelope, data)
    except (ValueError, OverflowError):  # a timestamp pydantic must judge
        return None


@cache
def _kinds() -> dict[str, tuple[Any, Callable[[dict[str, Any], dict[str, Any]], Fact]]]:
    """Each projected type's validator and reader."""
    return {name: (validator, _READERS[name.split(".", 2)[1]]) for name, validator in _validators().items()}


def _customer(envelope: dict[str, Any], d: dict[str, Any]) -> Fact:
    _moment(envelope["time"])
    updated_at = _moment(d["updated_at"])
    row = (
        d["customer_id"],
        d.get("external_id"),
        d["name"],
        d.get("email"),
        d["currency"],
        d.get("metadata", {}),
        updated_at,
        updated_at,
    )
    return Fact("customers", envelope["id"], row)


def _change(envelope: dict[str, Any], d: dict[str, Any]) -> Fact:
    terms, previous = d["terms"], d.get("previous")
    row = (
        envelope["id"],
        d["subscription_id"],
        d["customer_id"],
        d["currency"],
        d["change"],
        terms["status"],
        previous["status"] if previous else None,
        terms["plan_key"],
        int(terms["plan_version"]),
        terms["interval"],
        int(terms["base_price_minor"]),
        int(terms["mrr_minor"]),
        d.get("cancel_at_period_end", False),
        _moment(d["started_at"]),
        _maybe_moment(d.get("trial_end")),
        _moment(d["current_period_end"]),
        _moment(d["effective_at"]),
        _moment(envelope["time"]),
    )
    for name in ("current_period_start", "canceled_at"):  # not kept, but pydantic parses them too
        _maybe_moment(d.get(name))
    return Fact("subscription_changes", envelope["id"], row)


def _invoice(envelope: dict[str, Any], d: dict[str, Any]) -> Fact:
    _moment(envelope["time"])
    invoice_id = d["invoice_id"]
    row = (
        invoice_id,
        d["number"],
        d["customer_id"],
        d.get("subscription_id"),
        d["status"],
        d["currency"],
        _moment(d["period_start"]),
        _moment(d["period_end"]),
        int(d["subtotal_minor"]),
        int(d["credits_applied_minor"]),
        int(d["tax_minor"]),
        int(d["total_minor"]),
        _moment(d["finalized_at"]),
        _moment(d["changed_at"]),
    )
    lines = tuple(
        [
            (
                invoice_id,
                number,
                line["kind"],
                line.get("meter"),
                None if (quantity := line.get("quantity")) is None else Decimal(quantity),
                int(line["amount_minor"]),
                _moment(line["period_start"]),
                _moment(line["period_end"]),
            )
            for number, line in enumerate(d["lines"])
        ]
    )
    return Fact("invoices", envelope["id"], row, lines)


def _payment(envelope: dict[str, Any], d: dict[str, Any]) -> Fact:
    _moment(envelope["time"])
    _maybe_moment(d.get("next_attempt_at"))
    row = (
        envelope["id"],
        envelope["type"].rsplit(".", 1)[1],
        d["invoice_id"],
        d["customer_id"],
        d.get("subscription_id"),
        int(d["amount_minor"]),
        d["currency"],
        int(d["attempt"]),
        d.get("reason"),
        _moment(d["occurred_at"]),
    )
    return Fact("payments", envelope["id"], row)


_READERS = {"customer": _customer, "subscription": _change, "invoice": _invoice, "payment": _payment}


def fact_of(raw: bytes) -> Fact | Ignored:
    """The fast reading when it can be trusted, else pydantic's (ContractError: the live consumer rejects it)."""
    fact = read_fact(raw)
    return model_fact(decode_billing(raw)) if fact is None else fact


def model_fact(event: BillingEvent | Ignored) -> Fact | Ignored:
    """The fact of a decoded event, from the rows the live consumer writes."""
    if isinstance(event, Ignored):
        return event
    if isinstance(event, CUSTOMER_EVENTS):
        return Fact("customers", event.id, _ordered(rows.customer_row(event), CUSTOMER_COLUMNS))
    if isinstance(event, SUBSCRIPTION_EVENTS):
        return Fact("subscription_changes", event.id, _ordered(rows.change_row(event), CHANGE_COLUMNS))
    if isinstance(event, INVOICE_EVENTS):
        lines = tuple(_ordered(line, LINE_COLUMNS) for line in rows.line_rows(event))
        return Fact("invoices", event.id, _ordered(rows.invoice_row(event), INVOICE_COLUMNS), lines)
    return Fact("payments", event.id, _ordered(rows.payment_row(event), PAYMENT_COLUMNS))


def _ordered(row: rows.Row, columns: tuple[str, ...]) -> Row:
    return tuple(row[column] for column in columns)
