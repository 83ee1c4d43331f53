from datetime import UTC, datetime, timedelta
from fractions import Fraction

from analytics.attribution.allocate import Conversion, Touch, attribute
from analytics.attribution.weights import DEFAULT_HALF_LIFE, split, weights

T = datetime(2026, 11, 21, tzinfo=UTC)
DAY = timedelta(days=1)
FOUR = [T - 4 * DAY, T - 3 * DAY, T - 2 * DAY, T - DAY]


def test_weights_of_each_model() -> None:
    assert weights("first_touch", FOUR, T, DEFAULT_HALF_LIFE) == [1, 0, 0, 0]
    assert weights("last_touch", FOUR, T, DEFAULT_HALF_LIFE) == [0, 0, 0, 1]
    assert weights("linear", FOUR, T, DEFAULT_HALF_LIFE) == [Fraction(1, 4)] * 4
    assert weights("position_based", FOUR, T, DEFAULT_HALF_LIFE) == [
        Fraction(2, 5),
        Fraction(1, 10),
        Fraction(1, 10),
        Fraction(2, 5),
    ]
    assert weights("position_based", FOUR[:2], T, DEFAULT_HALF_LIFE) == [Fraction(1, 2)] * 2
    assert weights("position_based", FOUR[:1], T, DEFAULT_HALF_LIFE) == [1]


def test_time_decay_halves_each_half_life() -> None:
    # 14, 7 and 0 days before: 1/4, 1/2 and 1 before normalizing by 7/4
    shares = weights("time_decay", [T - 14 * DAY, T - 7 * DAY, T], T, timedelta(days=7))
    assert shares == [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]
    assert sum(shares) == 1


def test_split_gives_the_units_left_to_the_largest_remainders() -> None:
    thirds = [Fraction(1, 3)] * 3
    assert split(100, thirds) == [34, 33, 33]  # a tie goes to the earlier part
    # 142.857, 285.714, 571.428: floors 998, the two largest remainders get the 2 units left
    assert split(1000, [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]) == [143, 286, 571]
    assert split(-100, thirds) == [-34, -33, -33]
    assert split(0, thirds) == [0, 0, 0]


def test_attribute_adds_up_per_touchpoint_type_and_currency() -> None:
    conversions = [
        Conversion("cus_1", T, 100, "USD", [Touch(T - 2 * DAY, "signup"), Touch(T - DAY, "webinar")]),
        Conversion("cus_2", T, 99, "USD", [Touch(T - DAY, "webinar")]),
        Conversion("cus_3", T, 500, "EUR", []),
    ]
    ledgers = attribute(conversions, "linear", DEFAULT_HALF_LIFE)
    usd, eur = ledgers["USD"], ledgers["EUR"]
    assert (usd.total_minor, usd.conversions) == (199, 2)
    assert usd.by_type["signup"].revenue_minor == 50
    assert usd.by_type["webinar"].revenue_minor == 149
    assert usd.by_type["webinar"].conversions == Fraction(3, 2)
    assert usd.by_type["webinar"].touches == 2
    assert usd.unattributed.revenue_minor == 0
    assert (eur.total_minor, eur.unattributed.revenue_minor, eur.unattributed.conversions) == (500, 500, Fraction(1))
    assert not eur.by_type
