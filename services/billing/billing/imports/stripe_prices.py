"""Pure: a subscription's Stripe prices (or, in older API versions, plans) read into the one Tally plan that holds
them all: a base price, the sum of the licensed items for their quantities, and a usage charge per metered item.

Amounts are exact: Stripe's `*_decimal` amounts may carry fractions of a minor unit, so an item's total is computed
in decimals and rounded half-up to a minor unit once, at its end. Tiers price as Stripe prices them: graduated, each
tier's units at its unit amount plus its flat amount once the quantity reaches into it; volume, every unit at the
tier the quantity falls in plus that tier's flat amount."""

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal, cast

from billing.plans.schemas import Charge
from billing.plans.schemas import Tier as ChargeTier
from billing.rating.money import exact, round_minor
from billing.rating.pricing import Model, Tier, tiered

Raw = Mapping[str, Any]
ZERO = Decimal(0)
KEY_LENGTH = 100
REF_LENGTH = 255  # what the import map keeps of a plan's Stripe reference
TierModel = Literal["graduated", "volume"]
_INTERVALS = {("month", 1): "month", ("month", 12): "year", ("year", 1): "year"}


@dataclass(frozen=True)
class Item:
    """One subscription item's price at the item's quantity."""

    price_id: str
    quantity: int
    currency: str
    product: str | None
    nickname: str | None
    interval: str | None  # month or year; None when Tally has no such interval
    metered: bool
    meter: str | None  # a metered price's Stripe billing meter (`recurring.meter`), if it names one
    unit: Decimal | None  # per_unit prices
    tiers_mode: str | None  # graduated or volume for tiered prices, None for per_unit ones
    tiers: tuple[Tier, ...]
    divide_by: int | None  # transform_quantity: the quantity (or usage) counted in blocks of this many
    round_up: bool  # transform_quantity: a started block counts
    problem: str | None

    @property
    def ref(self) -> str:
        """What the item stands for: the price, times the quantity when above one (usage has no quantity)."""
        return self.price_id if self.metered or self.quantity == 1 else f"{self.price_id}*{self.quantity}"

    @property
    def key(self) -> str:
        key = "stripe_" + _key_text(self.price_id)
        suffix = f"_x{self.quantity}" if self.ref != self.price_id else ""
        return key[: KEY_LENGTH - len(suffix)] + suffix

    @property
    def meter_ref(self) -> str:
        """The Stripe object a metered item's Tally meter stands for: its billing meter, else its price."""
        return self.meter or self.price_id

    @property
    def meter_key(self) -> str:
        return ("stripe_" + _key_text(self.meter_ref))[:KEY_LENGTH]

    def name(self, product_name: str | None) -> str:
        name = product_name or self.nickname or self.price_id
        return name if self.ref == self.price_id else f"{name} x {self.quantity}"

    def amount_minor(self) -> int:
        """A licensed item's amount per period for its quantity, rounded half-up once."""
        assert not self.metered and self.problem is None
        quantity = self.quantity
        if self.divide_by:
            blocks, rest = divmod(quantity, self.divide_by)
            quantity = blocks + (1 if rest and self.round_up else 0)
        with exact():
            if self.tiers_mode:
                model: TierModel = "volume" if self.tiers_mode == "volume" else "graduated"
                amount = tiered(model, self.tiers, Decimal(quantity)) if quantity > 0 else ZERO
            else:
                assert self.unit is not None
                amount = quantity * self.unit
        return round_minor(amount)

    def charge(self, meter_key: str) -> Charge:
        """A metered item as the usage charge of the Tally meter `meter_key`."""
        assert self.metered and self.problem is None
        if self.tiers_mode:
            tiers = [
                ChargeTier(up_to=t.up_to, unit_price=t.unit_price, flat_fee_minor=int(t.flat_fee_minor))
                for t in self.tiers
            ]
            return Charge(meter=meter_key, model=cast(Model, self.tiers_mode), tiers=tiers)
        assert self.unit is not None
        if self.divide_by:
            return Charge(
                meter=meter_key, model="package", package_size=self.divide_by, package_price_minor=int(self.unit)
            )
        return Charge(meter=meter_key, model="per_unit", unit_price=self.unit)


def read_item(item: Raw) -> Item:
    price = item.get("price") or item.get("plan") or {}
    if isinstance(price, str):
        price = {"id": price}
    # A price has `recurring`; an older plan has the same fields at its top level.
    recurring = price.get("recurring") or {
        name: price.get(name) for name in ("interval", "usage_type", "aggregate_usage", "meter")
    }
    every = str(recurring.get("interval") or "")
    count = int(recurring.get("interval_count") or price.get("interval_count") or 1)
    transform = price.get("transform_quantity") or price.get("transform_usage") or {}
    tiered = price.get("billing_scheme") == "tiered"
    tiers = tuple(_tier(tier) for tier in price.get("tiers") or ())
    read = Item(
        price_id=str(price.get("id") or "unknown"),
        quantity=1 if item.get("quantity") is None else int(item["quantity"]),  # a metered item has none
        currency=str(price.get("currency") or "").upper(),
        product=_id(price.get("product")),
        nickname=price.get("nickname") or None,
        interval=_INTERVALS.get((every, count)),
        metered=recurring.get("usage_type") == "metered",
        meter=_id(recurring.get("meter")),
        unit=None if tiered else _first(_decimal(price, "unit_amount"), _decimal(price, "amount")),
        tiers_mode=str(price.get("tiers_mode")) if tiered else None,
        tiers=tiers,
        divide_by=int(transform["divide_by"]) if transform.get("divide_by") else None,
        round_up=transform.get("round") == "up",
        problem=None,
    )
    problem = _problem(price, recurring, read, every, count)
    return read if problem is None else replace(read, problem=problem)


def _problem(price: Raw, recurring: Raw, read: Item, every: str, count: int) -> str | None:
    if price.get("type") == "one_time" or not every:
        return "not a recurring price"
    if read.interval is None:
        return f"billed every {count} {every}: Tally plans are monthly or yearly"
    if read.tiers_mode is not None:
        if read.tiers_mode not in ("graduated", "volume") or not read.tiers:
            return "a tiered price whose tiers Stripe did not give"
        if not _ordered(read.tiers):
            return "tiers that do not rise to an open last tier"
    elif read.unit is None:
        return "a price without a unit amount"
    return _usage_problem(recurring, read) if read.metered else None


def _usage_problem(recurring: Raw, read: Item) -> str | None:
    """What a Tally meter and usage charge cannot hold of a metered price."""
    if recurring.get("aggregate_usage") not in (None, "sum"):
        return f"usage aggregated by {recurring['aggregate_usage']}: the import makes meters that sum usage"
    if any(tier.flat_fee_minor != int(tier.flat_fee_minor) for tier in read.tiers):
        return "a metered price with a fractional flat amount: Tally's tier fees are whole minor units"
    if read.divide_by and not read.round_up:
        return "usage rounded down to blocks: Tally's package pricing counts a started block"
    if read.divide_by and read.unit is not None and read.unit != int(read.unit):
        return "usage in blocks at a fractional price: Tally's package price is whole minor units"
    return None


@dataclass(frozen=True)
class Plan:
    """The Tally plan standing for a subscription's items (sorted by their refs)."""

    items: tuple[Item, ...]
    problem: str | None

    @property
    def ref(self) -> str:
        """What the plan stands for (its key in the import map): the items' refs; hashed when too long to keep."""
        ref = "+".join(item.ref for item in self.items)
        return ref if len(ref) <= REF_LENGTH else f"{ref[:200]}#{_digest(ref)}"

    @property
    def key(self) -> str:
        if len(self.items) == 1:
            return self.items[0].key
        key = "stripe_" + "_".join(item.key.removeprefix("stripe_") for item in self.items)
        return key if len(key) <= KEY_LENGTH else f"{key[: KEY_LENGTH - 9]}_{_digest(self.ref)[:8]}"

    @property
    def currency(self) -> str:
        return self.items[0].currency

    @property
    def interval(self) -> str | None:
        return self.items[0].interval

    @property
    def products(self) -> set[str]:
        return {item.product for item in self.items if item.product}

    @property
    def metered(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.metered)

    def base_price_minor(self) -> int:
        """The licensed items' amounts added (0 when every item is metered)."""
        return sum(item.amount_minor() for item in self.items if not item.metered)

    def name(self, product_names: Mapping[str, str | None]) -> str:
        return " + ".join(item.name(product_names.get(item.product or "")) for item in self.items)[:200]


def read_plan(items: Sequence[Item]) -> Plan:
    ordered = tuple(sorted(items, key=lambda item: item.ref))
    return Plan(ordered, _plan_problem(ordered))


def _plan_problem(items: Sequence[Item]) -> str | None:
    if len(items) == 1:
        return items[0].problem
    if problems := [f"{item.price_id}: {item.problem}" for item in items if item.problem]:
        return "; ".join(problems)[:500]
    currencies = sorted({item.currency for item in items})
    meters = [item.meter_ref for item in items if item.metered]
    checks = (
        (len(currencies) > 1, f"prices in {' and '.join(currencies)} on one subscription: a plan has one currency"),
        (len({item.interval for item in items}) > 1, "monthly and yearly prices on one subscription: a plan has one"),
        (len(meters) != len(set(meters)), "two prices bill the same Stripe meter: a plan prices a meter once"),
        (len({item.ref for item in items}) != len(items), "the same price twice on one subscription"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _tier(raw: Raw) -> Tier:
    up_to = raw.get("up_to")
    return Tier(
        up_to=None if up_to in (None, "inf") else Decimal(int(up_to)),
        unit_price=_decimal(raw, "unit_amount") or ZERO,
        flat_fee_minor=_decimal(raw, "flat_amount") or ZERO,
    )


def _ordered(tiers: Sequence[Tier]) -> bool:
    """Bounds rising from above zero, the last tier open: what Stripe makes and Tally's tiers require."""
    *bounded, last = [tier.up_to for tier in tiers]
    previous = ZERO
    for up_to in bounded:
        if up_to is None or up_to <= previous:
            return False
        previous = up_to
    return last is None


def _first(*values: Decimal | None) -> Decimal | None:
    return next((value for value in values if value is not None), None)


def _decimal(raw: Raw, name: str) -> Decimal | None:
    """Stripe's exact `<name>_decimal` string, else the integer `<name>`."""
    for value in (raw.get(f"{name}_decimal"), raw.get(name)):
        if value is not None and not isinstance(value, float):
            return Decimal(str(value))
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _key_text(stripe_id: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", stripe_id.lower())


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()
