"""Pure: an invoice's lines and totals from a plan's terms, measured usage and units covered by credits.

Per charge, included units are free first, prepaid credits cover what is left next, and the pricing model prices
the rest. Each line is rounded once (half-up); tax is the customer's rate on what remains after the monetary
balance, rounded once."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.rating import pricing
from billing.rating.money import exact, round_minor
from billing.rating.periods import Period

ZERO = Decimal(0)
Group = str | None


@dataclass(frozen=True)
class Line:
    kind: str  # base_fee, usage, credits, proration, adjustment, credit_pack
    description: str
    amount_minor: int
    period: Period
    meter: str | None = None
    group: Group = None
    quantity: Decimal | None = None


@dataclass(frozen=True)
class Totals:
    subtotal_minor: int
    credits_applied_minor: int
    tax_minor: int
    total_minor: int


def base_fee(plan_name: str, price_minor: int, period: Period) -> Line:
    span = f"{period.start.date().isoformat()} to {period.end.date().isoformat()}"
    return Line("base_fee", f"{plan_name} ({span})", price_minor, period)


def billable_units(charge: pricing.Charge, quantities: Mapping[Group, Decimal]) -> Decimal:
    """The units the charge would price (beyond its included units, per group): what credits may cover."""
    return sum((max(ZERO, quantity - charge.included_units) for quantity in quantities.values()), ZERO)


def usage_lines(
    charge: pricing.Charge, quantities: Mapping[Group, Decimal], covered: Decimal, period: Period
) -> list[Line]:
    """One line per group (groups in order); `covered` units, taken from groups in that order, are priced at 0 and
    shown on a credits line of their own."""
    measured = dict(quantities) or {None: ZERO}
    lines: list[Line] = []
    left = covered
    for group in sorted(measured, key=lambda g: (g is not None, g or "")):
        quantity = measured[group]
        with exact():
            take = min(left, max(ZERO, quantity - charge.included_units))
            left -= take
            rated = pricing.rate(charge, quantity - take)
        label = charge.meter if group is None else f"{charge.meter} ({group})"
        detail = f"{_units(quantity)} units" + (
            f", {_units(charge.included_units)} included" if charge.included_units else ""
        )
        lines.append(Line("usage", f"{label}: {detail}", rated.amount_minor, period, charge.meter, group, quantity))
    if covered:
        lines.append(
            Line(
                "credits",
                f"{charge.meter}: {_units(covered)} units from prepaid credits",
                0,
                period,
                charge.meter,
                quantity=covered,
            )
        )
    return lines


def totals(lines: Sequence[Line], credits_applied_minor: int, tax_rate: Decimal) -> Totals:
    subtotal = sum(line.amount_minor for line in lines)
    taxable = max(0, subtotal - credits_applied_minor)
    tax = round_minor(Decimal(taxable) * tax_rate)
    return Totals(subtotal, credits_applied_minor, tax, subtotal - credits_applied_minor + tax)


def _units(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
