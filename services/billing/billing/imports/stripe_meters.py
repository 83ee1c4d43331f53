"""Pure: the Tally meter standing for a metered price's Stripe billing meter, so that the company can send Tally the
very events it sends Stripe: the meter's `event_name` as the event type, its `default_aggregation.formula` as the
aggregation (sum and last of the payload key `value_settings.event_payload_key`, or a count of events). A meter Tally
cannot hold as it is (none in Stripe, another formula, an event name Tally refuses) becomes the fallback: a meter
`stripe_<meter id>` summing the property `value` of events of that type, with the reason; a metered price without a
billing meter (older API versions, usage records) always has that one."""

import re
from dataclasses import dataclass
from typing import cast

from contracts.billing import Aggregation
from contracts.usage import EVENT_TYPE_PATTERN

from billing.catalog.models import Meter
from billing.imports.stripe_objects import Raw
from billing.imports.stripe_prices import KEY_LENGTH, Item

USAGE_PROPERTY = "value"  # Stripe's default `event_payload_key`, and the fallback meter's property
PROPERTY_LENGTH = 100
FORMULAS: dict[str, Aggregation] = {"sum": "sum", "count": "count", "last": "latest"}


@dataclass(frozen=True)
class MeterTerms:
    key: str
    event_type: str
    aggregation: Aggregation
    property: str | None  # None for a count
    own_events: bool = False  # the fallback: it measures the events named by its own key
    problem: str | None = None  # why this is the fallback rather than the Stripe meter as it is


def describe(meter: Meter) -> str:
    measured = f"`{meter.property}`" if meter.property else "events"
    return f"{meter.aggregation} of {measured} of `{meter.event_type}` events"


def fallback(item: Item, problem: str | None = None) -> MeterTerms:
    return MeterTerms(item.meter_key, item.meter_key, "sum", USAGE_PROPERTY, own_events=True, problem=problem)


def meter_terms(item: Item, meter: Raw | None) -> MeterTerms:
    """What Tally measures for the metered item, given its Stripe meter as read (None: Stripe has none by that id)."""
    if item.meter is None:
        return fallback(item)
    if meter is None:
        return fallback(item, f"Stripe has no billing meter {item.meter}: {_made(item)}")
    event = meter.get("event_name")
    formula = (meter.get("default_aggregation") or {}).get("formula")
    payload_key = (meter.get("value_settings") or {}).get("event_payload_key") or USAGE_PROPERTY
    if not isinstance(event, str) or not re.fullmatch(EVENT_TYPE_PATTERN, event):
        return fallback(item, f"its event name {event!r} is not a Tally event type: {_made(item)}")
    if formula not in FORMULAS:
        return fallback(item, f"it aggregates by {formula!r}, which Tally meters do not: {_made(item)}")
    aggregation = FORMULAS[cast(str, formula)]
    if aggregation != "count" and not 0 < len(payload_key) <= PROPERTY_LENGTH:
        return fallback(item, f"its payload key is longer than {PROPERTY_LENGTH} characters: {_made(item)}")
    return MeterTerms(
        key=event_key(event),
        event_type=event,
        aggregation=aggregation,
        property=None if aggregation == "count" else payload_key,
    )


def event_key(event_name: str) -> str:
    """A meter key named after the event name (which starts with a letter, as keys do)."""
    return re.sub(r"[^a-z0-9_]+", "_", event_name.lower())[:KEY_LENGTH]


def _made(item: Item) -> str:
    return f"made `{item.meter_key}` summing `{USAGE_PROPERTY}` of `{item.meter_key}` events instead"
