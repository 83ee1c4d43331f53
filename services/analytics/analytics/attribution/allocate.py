"""Pure: conversions and the touchpoints before them -> revenue and conversion credit per touchpoint type."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from analytics.attribution.weights import Model, split, weights


@dataclass(frozen=True)
class Touch:
    at: datetime
    event_type: str


@dataclass(frozen=True)
class Conversion:
    customer_id: str
    at: datetime
    amount_minor: int
    currency: str
    touches: Sequence[Touch]
    """In the lookback window before `at`, in time order."""


@dataclass
class Credit:
    revenue_minor: int = 0
    conversions: Fraction = Fraction(0)
    touches: int = 0


@dataclass
class Ledger:
    """One currency's conversions and who earned them; `unattributed` holds conversions without touchpoints."""

    total_minor: int = 0
    conversions: int = 0
    by_type: dict[str, Credit] = field(default_factory=lambda: defaultdict(Credit))
    unattributed: Credit = field(default_factory=Credit)


def attribute(conversions: Sequence[Conversion], model: Model, half_life: timedelta) -> dict[str, Ledger]:
    """Per currency: each conversion's amount split exactly over its touches by the model's weights, added up per
    touchpoint type. The parts of every conversion add up to its amount, so each ledger adds up to its total."""
    ledgers: dict[str, Ledger] = defaultdict(Ledger)
    for conversion in conversions:
        ledger = ledgers[conversion.currency]
        ledger.total_minor += conversion.amount_minor
        ledger.conversions += 1
        if not conversion.touches:
            ledger.unattributed.revenue_minor += conversion.amount_minor
            ledger.unattributed.conversions += 1
            continue
        shares = weights(model, [touch.at for touch in conversion.touches], conversion.at, half_life)
        parts = split(conversion.amount_minor, shares)
        for touch, share, part in zip(conversion.touches, shares, parts, strict=True):
            credit = ledger.by_type[touch.event_type]
            credit.revenue_minor += part
            credit.conversions += share
            credit.touches += 1
    return dict(ledgers)
