"""Reading a subscription's Stripe prices into one Tally plan: licensed amounts (per unit, tiered, in blocks), usage
charges for metered prices, and what a plan cannot hold. Expected amounts are worked out by hand in the comments."""

import re
from decimal import Decimal
from typing import Any

import pytest
from billing.catalog.schemas import KEY_PATTERN
from billing.imports.stripe_prices import read_item, read_plan
from billing.rating import pricing


def price(**fields: Any) -> dict[str, Any]:
    """A price as the current API shows it (a list omits `tiers`; expanded, they are there)."""
    found = {
        "id": "price_1QxPro",
        "object": "price",
        "currency": "usd",
        "unit_amount": 4900,
        "unit_amount_decimal": "4900",
        "billing_scheme": "per_unit",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "product": "prod_1",
        "nickname": "Pro monthly",
        "recurring": {"interval": "month", "interval_count": 1, "meter": None, "usage_type": "licensed"},
    }
    return found | fields


def tiers(*rows: tuple[int | None, str, str]) -> list[dict[str, Any]]:
    """(up_to, unit_amount_decimal, flat_amount_decimal) as Stripe returns tiers: integers where whole, else null."""
    return [
        {
            "up_to": up_to,
            "unit_amount": int(Decimal(unit)) if Decimal(unit) == int(Decimal(unit)) else None,
            "unit_amount_decimal": unit,
            "flat_amount": int(Decimal(flat)) if Decimal(flat) == int(Decimal(flat)) else None,
            "flat_amount_decimal": flat,
        }
        for up_to, unit, flat in rows
    ]


def tiered(mode: str, *rows: tuple[int | None, str, str], **fields: Any) -> dict[str, Any]:
    return (
        price(billing_scheme="tiered", tiers_mode=mode, unit_amount=None, unit_amount_decimal=None)
        | {"tiers": tiers(*rows)}
        | fields
    )


def metered(**fields: Any) -> dict[str, Any]:
    usage = {"interval": "month", "interval_count": 1, "meter": "mtr_61Api", "usage_type": "metered"}
    return price(id="price_1QxApi", unit_amount=None, unit_amount_decimal="0.5", recurring=usage) | fields


# 1-5 at 10.00 each plus a 5.00 fee, 6-10 at 8.00, then 5.005 each plus a 2.5025 fee (minor units: cents).
STEPS = ((5, "1000", "500"), (10, "800", "0"), (None, "500.5", "250.25"))


@pytest.mark.parametrize(
    ("quantity", "graduated", "volume"),
    [
        (0, 0, 0),  # no units: nothing, in either mode
        (3, 3500, 3500),  # 3 x 1000 + 500, in the first tier either way
        (5, 5500, 5500),  # the first tier's last unit
        (7, 7100, 5600),  # graduated 5 x 1000 + 500 + 2 x 800; volume 7 x 800
        (12, 10751, 6256),  # 5500 + 5 x 800 + 2 x 500.5 + 250.25 = 10751.25; 12 x 500.5 + 250.25 = 6256.25
        (11, 10251, 5756),  # 5500 + 4000 + 500.5 + 250.25 = 10250.75; 11 x 500.5 + 250.25 = 5755.75
    ],
)
def test_tiers_price_a_quantity_as_stripe_does(quantity: int, graduated: int, volume: int) -> None:
    amounts = {}
    for mode in ("graduated", "volume"):
        item = read_item({"price": tiered(mode, *STEPS), "quantity": quantity})
        assert item.problem is None
        amounts[mode] = item.amount_minor()
    assert amounts == {"graduated": graduated, "volume": volume}


def test_tier_sums_stay_exact_until_the_item_is_rounded_once() -> None:
    thirds = [
        pricing.Tier(Decimal(1), Decimal("0.4")),
        pricing.Tier(Decimal(2), Decimal("0.4")),
        pricing.Tier(None, Decimal("0.4")),
    ]
    assert pricing.tiered("graduated", thirds, Decimal(3)) == Decimal("1.2")  # rounding each tier would make it 0
    item = read_item(
        {"price": tiered("graduated", (1, "0.4", "0"), (2, "0.4", "0"), (None, "0.4", "0")), "quantity": 3}
    )
    assert item.amount_minor() == 1
    half = read_item({"price": price(unit_amount=None, unit_amount_decimal="12.5"), "quantity": 1})
    assert half.amount_minor() == 13  # half-up, not to even
    fee = read_item({"price": tiered("volume", (None, "0", "0.5")), "quantity": 4})
    assert fee.amount_minor() == 1  # a fractional flat amount alone: 0.5 -> 1


def test_tiers_as_localstripe_and_older_plans_give_them() -> None:
    plan = {
        "id": "plan_Seats",
        "object": "plan",
        "amount": None,
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
        "usage_type": "licensed",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": [{"up_to": "5", "unit_amount": "1000", "flat_amount": "0"}, {"up_to": "inf", "unit_amount": "700"}],
    }
    item = read_item({"plan": plan, "quantity": 8})
    assert (item.problem, item.amount_minor(), item.currency) == (None, 7100, "EUR")  # 5 x 1000 + 3 x 700


@pytest.mark.parametrize(
    ("transform", "quantity", "amount"),
    [
        ({"divide_by": 10, "round": "up"}, 25, 3000),  # 3 blocks started
        ({"divide_by": 10, "round": "down"}, 25, 2000),  # 2 whole blocks
        ({"divide_by": 10, "round": "up"}, 30, 3000),
    ],
)
def test_a_quantity_in_blocks(transform: dict[str, Any], quantity: int, amount: int) -> None:
    item = read_item(
        {
            "price": price(unit_amount=1000, unit_amount_decimal="1000", transform_quantity=transform),
            "quantity": quantity,
        }
    )
    assert item.amount_minor() == amount


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"price": price(), "quantity": 1}, ("price_1QxPro", "month", 4900, "USD", "stripe_price_1qxpro")),
        ({"price": price(), "quantity": 3}, ("price_1QxPro*3", "month", 14700, "USD", "stripe_price_1qxpro_x3")),
        (
            {"plan": {"id": "plan_Ab12", "amount": 2900, "currency": "eur", "interval": "month"}, "quantity": 1},
            ("plan_Ab12", "month", 2900, "EUR", "stripe_plan_ab12"),
        ),
        (
            {"price": price(recurring={"interval": "month", "interval_count": 12}), "quantity": 1},
            ("price_1QxPro", "year", 4900, "USD", "stripe_price_1qxpro"),
        ),
        (
            {"plan": {"id": "Gold-Plan.2026", "amount": 2900, "currency": "eur", "interval": "year"}, "quantity": 1},
            ("Gold-Plan.2026", "year", 2900, "EUR", "stripe_gold_plan_2026"),
        ),
    ],
)
def test_a_licensed_price_at_its_quantity(item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    read = read_item(item)
    assert (read.ref, read.interval, read.amount_minor(), read.currency, read.key) == expected
    assert read.problem is None


def test_a_key_fits_the_key_pattern_and_length() -> None:
    read = read_item({"price": price(id="price_" + "A" * 150), "quantity": 12})
    assert len(read.key) == 100 and read.key.endswith("_x12")
    assert read.name("Pro") == "Pro x 12"
    assert read_item({"price": price(), "quantity": 1}).name(None) == "Pro monthly"


@pytest.mark.parametrize(
    ("stripe_price", "problem"),
    [
        (price(billing_scheme="tiered", unit_amount=None), "a tiered price whose tiers Stripe did not give"),
        (tiered("graduated", (5, "1", "0"), (10, "1", "0")), "tiers that do not rise to an open last tier"),
        (price(type="one_time", recurring=None), "not a recurring price"),
        (price(recurring={"interval": "month", "interval_count": 3}), "billed every 3 month"),
        (price(recurring={"interval": "week", "interval_count": 1}), "billed every 1 week"),
        (price(unit_amount=None, unit_amount_decimal=None), "a price without a unit amount"),
        (
            metered(recurring={"interval": "month", "usage_type": "metered", "aggregate_usage": "max"}),
            "usage aggregated by max",
        ),
        (metered(transform_quantity={"divide_by": 1000, "round": "down"}), "usage rounded down to blocks"),
        (
            metered(billing_scheme="tiered", tiers_mode="volume", tiers=tiers((None, "1", "0.5"))),
            "a metered price with a fractional flat",
        ),
    ],
)
def test_what_a_tally_plan_cannot_hold_is_a_problem(stripe_price: dict[str, Any], problem: str) -> None:
    read = read_item({"price": stripe_price, "quantity": 1})
    assert read.problem is not None and read.problem.startswith(problem)


def test_a_metered_price_becomes_a_usage_charge_on_its_meter() -> None:
    per_unit = read_item({"price": metered()})  # a metered item has no quantity
    assert (per_unit.problem, per_unit.ref, per_unit.meter_ref, per_unit.meter_key) == (
        None,
        "price_1QxApi",
        "mtr_61Api",
        "stripe_mtr_61api",
    )
    charge = per_unit.charge("stripe_mtr_61api")
    assert (charge.meter, charge.model, charge.unit_price) == ("stripe_mtr_61api", "per_unit", Decimal("0.5"))

    graduated = read_item(
        {
            "price": metered(
                billing_scheme="tiered", tiers_mode="graduated", tiers=tiers(*STEPS[:2], (None, "0.25", "100"))
            )
        }
    )
    terms = graduated.charge("calls")
    assert terms.model == "graduated" and terms.tiers is not None
    assert [(t.up_to, t.unit_price, t.flat_fee_minor) for t in terms.tiers] == [
        (Decimal(5), Decimal(1000), 500),
        (Decimal(10), Decimal(800), 0),
        (None, Decimal("0.25"), 100),
    ]
    blocks = read_item(
        {
            "price": metered(
                unit_amount=300, unit_amount_decimal="300", transform_quantity={"divide_by": 1000, "round": "up"}
            )
        }
    )
    package = blocks.charge("calls")
    assert (package.model, package.package_size, package.package_price_minor) == ("package", 1000, 300)
    legacy = read_item(
        {"plan": {"id": "plan_Calls", "amount": 3, "currency": "usd", "interval": "month", "usage_type": "metered"}}
    )
    assert (legacy.problem, legacy.meter_key) == (None, "stripe_plan_calls")  # no Stripe meter: the price stands for it


def test_several_prices_make_one_plan_named_by_their_sorted_refs() -> None:
    seats = read_item(
        {
            "price": price(
                id="price_Seat", product="prod_seat", nickname=None, unit_amount=1500, unit_amount_decimal="1500"
            ),
            "quantity": 12,
        }
    )
    base = read_item(
        {
            "price": price(id="price_Base", product="prod_base", unit_amount=9900, unit_amount_decimal="9900"),
            "quantity": 1,
        }
    )
    usage = read_item({"price": metered()})
    plan = read_plan([usage, seats, base])
    again = read_plan([base, usage, seats])
    assert plan == again  # the order Stripe lists items in does not matter
    assert (plan.problem, plan.ref, plan.key) == (
        None,
        "price_1QxApi+price_Base+price_Seat*12",
        "stripe_price_1qxapi_price_base_price_seat_x12",
    )
    assert plan.base_price_minor() == 9900 + 12 * 1500  # the metered item adds nothing to the base
    assert [item.price_id for item in plan.metered] == ["price_1QxApi"]
    names = {"prod_base": "Platform", "prod_seat": "Seat", "prod_1": "API calls"}
    assert plan.name(names) == "API calls + Platform + Seat x 12"
    assert read_plan([usage]).base_price_minor() == 0


def test_a_long_list_of_prices_keeps_a_key_and_ref_that_fit() -> None:
    many = [read_item({"price": price(id=f"price_{i:02d}_" + "x" * 30), "quantity": i}) for i in range(1, 12)]
    plan = read_plan(many)
    assert plan.problem is None
    assert len(plan.ref) <= 255 and len(plan.key) <= 100 and re.fullmatch(KEY_PATTERN, plan.key)
    assert plan.key != read_plan(many[:-1]).key


@pytest.mark.parametrize(
    ("prices", "problem"),
    [
        ([price(), price(id="price_Eur", currency="eur")], "prices in EUR and USD on one subscription"),
        (
            [price(), price(id="price_Year", recurring={"interval": "year"})],
            "monthly and yearly prices on one subscription",
        ),
        ([metered(), metered(id="price_Other")], "two prices bill the same Stripe meter"),
        ([price(), price(id="price_Week", recurring={"interval": "week"})], "price_Week: billed every 1 week"),
    ],
)
def test_what_one_plan_cannot_hold_of_several_prices_is_a_problem(prices: list[dict[str, Any]], problem: str) -> None:
    found = read_plan([read_item({"price": stripe_price}) for stripe_price in prices]).problem
    assert found is not None and found.startswith(problem)
