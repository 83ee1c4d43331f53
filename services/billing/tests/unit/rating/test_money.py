from decimal import Decimal

import pytest
from billing.rating.money import exact, round_minor, round_share


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("0.4", 0),
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),  # half-even would give 2
        ("2.4999", 2),
        ("-0.5", -1),  # ties go away from zero, so a credit mirrors its charge
        ("-0.4", 0),
        ("7", 7),
    ],
)
def test_round_minor_is_half_up(amount: str, minor: int) -> None:
    assert round_minor(Decimal(amount)) == minor


@pytest.mark.parametrize(
    ("amount", "numerator", "denominator", "minor"),
    [
        (1000, 1, 3, 333),
        (1000, 2, 3, 667),
        (999, 1, 2, 500),
        (-999, 1, 2, -500),
        (5, 0, 7, 0),
        (5, 7, 7, 5),
    ],
)
def test_round_share(amount: int, numerator: int, denominator: int, minor: int) -> None:
    assert round_share(amount, numerator, denominator) == minor


def test_round_share_needs_a_positive_denominator() -> None:
    with pytest.raises(ValueError, match="positive"):
        round_share(5, 1, 0)


def test_exact_arithmetic_refuses_to_round() -> None:
    with exact():
        assert Decimal("0.125") * 3 == Decimal("0.375")
        with pytest.raises(ArithmeticError):
            _ = Decimal(1) / 3
