"""A Stripe billing meter as the Tally meter of the same events: its event name, its formula, its payload key; the
fallback, with the reason, where Tally cannot hold it."""

import re
from dataclasses import replace
from typing import Any

import pytest
from billing.catalog.schemas import KEY_PATTERN
from billing.imports.stripe_meters import MeterTerms, event_key, meter_terms
from billing.imports.stripe_prices import read_item
from hypothesis import given
from hypothesis import strategies as st

ITEM = read_item({
    "price": {
        "id": "price_1QxApi",
        "currency": "usd",
        "unit_amount": 2,
        "billing_scheme": "per_unit",
        "type": "recurring",
        "recurring": {"interval": "month", "usage_type": "metered", "meter": "mtr_QxApiCalls"},
    }
})  # fmt: skip
FALLBACK = "made `stripe_mtr_qxapicalls` summing `value` of `stripe_mtr_qxapicalls` events instead"


def meter(formula: str = "sum", event_name: Any = "api_call", payload_key: str | None = "calls") -> dict[str, Any]:
    return {
        "id": "mtr_QxApiCalls",
        "object": "billing.meter",
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "default_aggregation": {"formula": formula},
        "event_name": event_name,
        "status": "active",
        "value_settings": {"event_payload_key": payload_key},
    }


@pytest.mark.parametrize(
    ("formula", "aggregation", "measured"),
    [("sum", "sum", "calls"), ("count", "count", None), ("last", "latest", "calls")],
)
def test_each_formula_becomes_its_aggregation(formula: str, aggregation: str, measured: str | None) -> None:
    assert meter_terms(ITEM, meter(formula)) == MeterTerms("api_call", "api_call", aggregation, measured)  # type: ignore[arg-type]


def test_the_payload_key_is_value_unless_the_meter_names_another() -> None:
    assert meter_terms(ITEM, meter(payload_key=None)).property == "value"


def test_a_price_without_a_billing_meter_has_the_meter_of_its_own_events() -> None:
    legacy = replace(ITEM, meter=None)
    found = meter_terms(legacy, None)
    assert (found.key, found.event_type, found.aggregation, found.property) == (
        "stripe_price_1qxapi",
        "stripe_price_1qxapi",
        "sum",
        "value",
    )
    assert (found.own_events, found.problem) == (True, None)


@pytest.mark.parametrize(
    ("read", "problem"),
    [
        (None, f"Stripe has no billing meter mtr_QxApiCalls: {FALLBACK}"),
        (meter("max"), f"it aggregates by 'max', which Tally meters do not: {FALLBACK}"),
        (meter(event_name="1st calls"), f"its event name '1st calls' is not a Tally event type: {FALLBACK}"),
        (meter(payload_key="k" * 101), f"its payload key is longer than 100 characters: {FALLBACK}"),
    ],
)
def test_what_tally_cannot_hold_falls_back_with_the_reason(read: dict[str, Any] | None, problem: str) -> None:
    found = meter_terms(ITEM, read)
    assert (found.key, found.event_type, found.aggregation, found.property, found.own_events) == (
        "stripe_mtr_qxapicalls",
        "stripe_mtr_qxapicalls",
        "sum",
        "value",
        True,
    )
    assert found.problem == problem


def test_a_key_is_the_event_name_made_a_key() -> None:
    assert [event_key(name) for name in ("api_call", "Tokens.In-Use", "seat:active")] == [
        "api_call",
        "tokens_in_use",
        "seat_active",
    ]


@given(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.:-]{0,99}\Z"))
def test_every_event_name_tally_takes_makes_a_valid_key(name: str) -> None:
    assert re.fullmatch(KEY_PATTERN, event_key(name))
