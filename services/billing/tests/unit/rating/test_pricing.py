from decimal import Decimal
from typing import cast

import pytest
from billing.rating.pricing import Charge, Model, Rated, Tier, rate, rate_groups, validate_charge

D = Decimal
TIERS = (Tier(D(10), D(5), 100), Tier(D(20), D(3), 50), Tier(None, D(1)))


def per_unit(price: str, included: str = "0") -> Charge:
    return Charge("api_calls", "per_unit", unit_price=D(price), included_units=D(included))


def amount(charge: Charge, quantity: str) -> int:
    return rate(charge, D(quantity)).amount_minor


def test_per_unit() -> None:
    assert rate(per_unit("2"), D(10)) == Rated(D(10), D(10), 20)


@pytest.mark.parametrize(
    ("price", "quantity", "minor"),
    [
        ("0.1", "5", 1),  # 0.5 rounds up
        ("0.1", "4", 0),  # 0.4 rounds down
        ("0.125", "3", 0),  # 0.375
        ("0.125", "4", 1),  # 0.5
        ("0.125", "12", 2),  # 1.5
        ("0.125", "20", 3),  # 2.5: half-up, not half-even
        ("0.4", "10", 4),  # rounded once for the line; per unit it would be 0
        ("2", "2.25", 5),  # 4.5: fractional quantities
    ],
)
def test_fractional_prices_round_half_up_once_per_line(price: str, quantity: str, minor: int) -> None:
    assert amount(per_unit(price), quantity) == minor


@pytest.mark.parametrize(
    ("quantity", "billable", "minor"),
    [("50", "0", 0), ("100", "0", 0), ("101", "1", 2), ("250.5", "150.5", 301)],
)
def test_included_units_are_free(quantity: str, billable: str, minor: int) -> None:
    rated = rate(per_unit("2", included="100"), D(quantity))
    assert (rated.quantity, rated.billable, rated.amount_minor) == (D(quantity), D(billable), minor)


@pytest.mark.parametrize("quantity", ["0", "-5"])
def test_no_usage_costs_nothing(quantity: str) -> None:
    for charge in [
        per_unit("2"),
        Charge("m", "graduated", tiers=TIERS),
        Charge("m", "volume", tiers=TIERS),
        Charge("m", "package", package_size=100, package_price_minor=500),
        Charge("m", "flat", flat_fee_minor=2500),
    ]:
        rated = rate(charge, D(quantity))
        assert (rated.quantity, rated.billable, rated.amount_minor) == (D(quantity), D(0), 0), charge.model


@pytest.mark.parametrize(
    ("quantity", "minor"),
    [
        ("1", 105),  # 5 + the first tier's fee
        ("10", 150),  # exactly at up_to: all in the first tier
        ("11", 203),  # one over: 150 + 3 + the second tier's fee
        ("20", 230),
        ("21", 231),  # the open tier has no fee
        ("10.5", 202),  # 150 + 0.5 * 3 + 50 = 201.5
        ("100", 310),
    ],
)
def test_graduated_prices_each_tier_its_own_units(quantity: str, minor: int) -> None:
    assert amount(Charge("m", "graduated", tiers=TIERS), quantity) == minor


def test_graduated_tiers_start_after_the_included_units() -> None:
    charge = Charge("m", "graduated", tiers=TIERS, included_units=D(5))
    assert rate(charge, D(16)) == Rated(D(16), D(11), 203)


@pytest.mark.parametrize(
    ("quantity", "minor"),
    [
        ("1", 105),
        ("10", 150),  # exactly at up_to: the first tier prices all 10
        ("11", 83),  # one over: all 11 at 3, plus the second tier's fee
        ("20", 110),
        ("21", 21),
        ("10.5", 82),  # 31.5 + 50
    ],
)
def test_volume_prices_every_unit_at_the_tier_reached(quantity: str, minor: int) -> None:
    assert amount(Charge("m", "volume", tiers=TIERS), quantity) == minor


@pytest.mark.parametrize(
    ("quantity", "minor"),
    [("0.5", 500), ("1", 500), ("100", 500), ("101", 1000), ("200", 1000), ("250.5", 1500)],
)
def test_package_charges_every_started_block(quantity: str, minor: int) -> None:
    assert amount(Charge("m", "package", package_size=100, package_price_minor=500), quantity) == minor


def test_package_after_included_units() -> None:
    charge = Charge("m", "package", package_size=100, package_price_minor=500, included_units=D(100))
    assert [amount(charge, q) for q in ["100", "101", "200", "201"]] == [0, 500, 500, 1000]


@pytest.mark.parametrize(("quantity", "minor"), [("0", 0), ("0.001", 2500), ("1000000", 2500)])
def test_flat_fee_once_there_is_usage(quantity: str, minor: int) -> None:
    assert amount(Charge("m", "flat", flat_fee_minor=2500), quantity) == minor


def test_flat_fee_not_charged_within_included_units() -> None:
    charge = Charge("m", "flat", flat_fee_minor=2500, included_units=D(10))
    assert [amount(charge, q) for q in ["10", "10.5"]] == [0, 2500]


def test_groups_are_rated_separately_with_their_own_included_units() -> None:
    charge = per_unit("2", included="100")
    rated = rate_groups(charge, {"eu": D(150), "us": D(50), None: D(120)})
    assert rated == {"eu": Rated(D(150), D(50), 100), "us": Rated(D(50), D(0), 0), None: Rated(D(120), D(20), 40)}


def test_groups_each_start_at_the_first_tier() -> None:
    rated = rate_groups(Charge("m", "graduated", tiers=TIERS), {"a": D(10), "b": D(10)})
    assert [r.amount_minor for r in rated.values()] == [150, 150]
    assert amount(Charge("m", "graduated", tiers=TIERS), "20") == 230


def test_rating_refuses_an_invalid_charge() -> None:
    with pytest.raises(ValueError, match="unit_price is required"):
        rate(Charge("m", "per_unit"), D(1))
    with pytest.raises(ValueError, match="tiers"):
        rate_groups(Charge("m", "volume"), {None: D(1)})


@pytest.mark.parametrize("quantity", ["NaN", "Infinity"])
def test_rating_refuses_a_quantity_that_is_not_a_number(quantity: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        rate(per_unit("1"), D(quantity))


@pytest.mark.parametrize(
    "charge",
    [
        per_unit("0"),
        per_unit("0.0001", included="10"),
        Charge("m", "graduated", tiers=TIERS),
        Charge("m", "volume", tiers=(Tier(None, D(2)),)),
        Charge("m", "package", package_size=1, package_price_minor=0),
        Charge("m", "flat", flat_fee_minor=0),
    ],
)
def test_valid_charges(charge: Charge) -> None:
    assert validate_charge(charge) == []


def tiered(*tiers: Tier, model: Model = "graduated") -> Charge:
    return Charge("m", model, tiers=tiers)


@pytest.mark.parametrize(
    ("charge", "problems"),
    [
        (Charge("", "flat", flat_fee_minor=1), [("meter", "is required")]),
        (
            Charge("m", cast(Model, "tiered")),
            [("model", "must be one of per_unit, graduated, volume, package, flat")],
        ),
        (Charge("m", "per_unit"), [("unit_price", "is required for per_unit pricing")]),
        (per_unit("-0.01"), [("unit_price", "must not be negative")]),
        (per_unit("NaN"), [("unit_price", "must be a finite number")]),
        (per_unit("1", included="-1"), [("included_units", "must not be negative")]),
        (tiered(), [("tiers", "graduated pricing needs at least one tier")]),
        (tiered(model="volume"), [("tiers", "volume pricing needs at least one tier")]),
        (
            tiered(Tier(D(10), D(1)), Tier(D(10), D(1)), Tier(None, D(1))),
            [("tiers.1.up_to", "must be greater than the previous tier's up_to")],
        ),
        (
            tiered(Tier(D(10), D(1)), Tier(D(5), D(1)), Tier(D(20), D(1)), Tier(None, D(1))),
            [("tiers.1.up_to", "must be greater than the previous tier's up_to")],
        ),
        (tiered(Tier(D(0), D(1)), Tier(None, D(1))), [("tiers.0.up_to", "must be greater than 0")]),
        (tiered(Tier(D("Infinity"), D(1)), Tier(None, D(1))), [("tiers.0.up_to", "must be a finite number")]),
        (
            tiered(Tier(D(10), D(1)), Tier(D(20), D(1)), model="volume"),
            [("tiers.1.up_to", "the last tier must be open (null)")],
        ),
        (
            tiered(Tier(None, D(1)), Tier(D(10), D(1))),
            [
                ("tiers.0.up_to", "only the last tier may be open (null)"),
                ("tiers.1.up_to", "the last tier must be open (null)"),
            ],
        ),
        (
            tiered(Tier(D(10), D("-1")), Tier(None, D(1), -5)),
            [("tiers.0.unit_price", "must not be negative"), ("tiers.1.flat_fee_minor", "must not be negative")],
        ),
        (
            Charge("m", "package"),
            [
                ("package_price_minor", "is required for package pricing"),
                ("package_size", "is required for package pricing"),
            ],
        ),
        (Charge("m", "package", package_size=0, package_price_minor=5), [("package_size", "must be at least 1")]),
        (
            Charge("m", "package", package_size=10, package_price_minor=-5),
            [("package_price_minor", "must not be negative")],
        ),
        (Charge("m", "flat"), [("flat_fee_minor", "is required for flat pricing")]),
        (Charge("m", "flat", flat_fee_minor=-1), [("flat_fee_minor", "must not be negative")]),
    ],
)
def test_invalid_charges(charge: Charge, problems: list[tuple[str, str]]) -> None:
    assert validate_charge(charge) == problems
