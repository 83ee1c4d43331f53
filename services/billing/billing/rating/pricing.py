"""Pricing models: what a period's usage of one meter costs, in whole minor units rounded once per line."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from billing.rating.money import exact, round_minor

Model = Literal["per_unit", "graduated", "volume", "package", "flat"]
MODELS: tuple[str, ...] = get_args(Model)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound in units; None = the open final tier
    unit_price: Decimal  # minor units per unit, may be fractional
    # graduated: once usage reaches into the tier; volume: when this tier is the one reached. Whole minor units in
    # Tally's plans; an imported Stripe tier's may be fractional.
    flat_fee_minor: Decimal | int = 0


@dataclass(frozen=True)
class Charge:
    meter: str
    model: Model
    unit_price: Decimal | None = None  # per_unit
    tiers: tuple[Tier, ...] = ()  # graduated, volume
    package_size: int | None = None  # package: price per started block of this many units
    package_price_minor: int | None = None  # package
    flat_fee_minor: int | None = None  # flat: once billable usage is above zero
    included_units: Decimal = ZERO  # free each period; the model prices the rest


@dataclass(frozen=True)
class Rated:
    quantity: Decimal  # the usage measured
    billable: Decimal  # quantity minus the included units, never negative
    amount_minor: int


def validate_charge(charge: Charge) -> list[tuple[str, str]]:
    """Every reason the charge cannot be priced, as (field, reason); empty when it can."""
    problems: list[tuple[str, str]] = []
    if not charge.meter:
        problems.append(("meter", "is required"))
    if charge.model not in MODELS:
        return [*problems, ("model", f"must be one of {', '.join(MODELS)}")]
    problems += _non_negative_decimal("included_units", charge.included_units)
    if charge.model == "per_unit":
        problems += _required_price("unit_price", charge.unit_price, charge.model)
    elif charge.model in ("graduated", "volume"):
        problems += _tier_problems(charge.tiers, charge.model)
    elif charge.model == "package":
        problems += _required_price("package_price_minor", charge.package_price_minor, charge.model)
        if charge.package_size is None:
            problems.append(("package_size", "is required for package pricing"))
        elif charge.package_size < 1:
            problems.append(("package_size", "must be at least 1"))
    else:
        problems += _required_price("flat_fee_minor", charge.flat_fee_minor, charge.model)
    return problems


def rate(charge: Charge, quantity: Decimal) -> Rated:
    """Prices one quantity; raises ValueError for a charge validate_charge rejects or a quantity that is not finite."""
    _require_valid(charge)
    return _rate_valid(charge, quantity)


def rate_groups(charge: Charge, quantities: Mapping[str | None, Decimal]) -> dict[str | None, Rated]:
    """Prices each group's quantity on its own, so each group gets the tiers and included units afresh."""
    _require_valid(charge)
    return {group: _rate_valid(charge, quantity) for group, quantity in quantities.items()}


def _rate_valid(charge: Charge, quantity: Decimal) -> Rated:
    if not quantity.is_finite():
        raise ValueError(f"the quantity must be a finite number, not {quantity}")
    with exact():
        billable = max(ZERO, quantity - charge.included_units)
        amount = _amount(charge, billable) if billable > 0 else ZERO
    return Rated(quantity, billable, round_minor(amount))


def _amount(charge: Charge, billable: Decimal) -> Decimal:
    """The unrounded price of a positive billable quantity."""
    match charge.model:
        case "per_unit":
            assert charge.unit_price is not None
            return billable * charge.unit_price
        case "graduated" | "volume":
            return tiered(charge.model, charge.tiers, billable)
        case "package":
            assert charge.package_size is not None and charge.package_price_minor is not None
            whole, part = divmod(billable, charge.package_size)
            return (whole + (1 if part else 0)) * charge.package_price_minor
        case "flat":
            assert charge.flat_fee_minor is not None
            return Decimal(charge.flat_fee_minor)
    raise AssertionError(charge.model)


def tiered(model: Literal["graduated", "volume"], tiers: Sequence[Tier], billable: Decimal) -> Decimal:
    """The unrounded price of a positive quantity on tiers: graduated, each tier's units at its price plus its flat
    fee once the quantity reaches into it; volume, every unit at the price of the tier it falls in, plus its fee."""
    if model == "volume":
        tier = next(tier for tier in tiers if tier.up_to is None or billable <= tier.up_to)
        return billable * tier.unit_price + tier.flat_fee_minor
    total, floor = ZERO, ZERO
    for tier in tiers:
        ceiling = billable if tier.up_to is None else min(billable, tier.up_to)
        if ceiling <= floor:
            break
        total += (ceiling - floor) * tier.unit_price + tier.flat_fee_minor
        floor = ceiling
    return total


def _require_valid(charge: Charge) -> None:
    problems = validate_charge(charge)
    if problems:
        raise ValueError("invalid charge: " + "; ".join(f"{field} {reason}" for field, reason in problems))


def _required_price(field: str, price: Decimal | int | None, model: str) -> list[tuple[str, str]]:
    if price is None:
        return [(field, f"is required for {model} pricing")]
    return _non_negative_decimal(field, Decimal(price))


def _non_negative_decimal(field: str, value: Decimal) -> list[tuple[str, str]]:
    if not value.is_finite():
        return [(field, "must be a finite number")]
    if value < 0:
        return [(field, "must not be negative")]
    return []


def _tier_problems(tiers: tuple[Tier, ...], model: str) -> list[tuple[str, str]]:
    if not tiers:
        return [("tiers", f"{model} pricing needs at least one tier")]
    problems: list[tuple[str, str]] = []
    previous = ZERO
    for index, tier in enumerate(tiers):
        field = f"tiers.{index}."
        problems += _non_negative_decimal(field + "unit_price", tier.unit_price)
        problems += _non_negative_decimal(field + "flat_fee_minor", Decimal(tier.flat_fee_minor))
        last = index == len(tiers) - 1
        if tier.up_to is None:
            if not last:
                problems.append((field + "up_to", "only the last tier may be open (null)"))
        elif last:
            problems.append((field + "up_to", "the last tier must be open (null)"))
        elif not tier.up_to.is_finite():
            problems.append((field + "up_to", "must be a finite number"))
        elif tier.up_to <= previous:
            reason = "must be greater than 0" if index == 0 else "must be greater than the previous tier's up_to"
            problems.append((field + "up_to", reason))
        else:
            previous = tier.up_to
    return problems
