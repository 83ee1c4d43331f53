from datetime import date
from decimal import Decimal
from fractions import Fraction

from analytics.metrics.formulas import CustomerPeriod, Trials, figures, movements, rate, round_half_up
from analytics.metrics.periods import add_months, end_of_month, months_between


def test_rounding_is_half_up_away_from_zero() -> None:
    assert [round_half_up(Fraction(n, 2)) for n in (1, 3, -1, -3)] == [1, 2, -1, -2]
    assert rate(1, 3) == Decimal("0.3333")
    assert rate(2, 3) == Decimal("0.6667")
    assert rate(1, 0) is None


def test_one_period_of_five_customers() -> None:
    customers = [
        CustomerPeriod(1000, 1000, True),  # steady
        CustomerPeriod(1000, 1500, True),  # expansion 500
        CustomerPeriod(2000, 1200, True),  # contraction 800
        CustomerPeriod(1000, 0, True),  # churned
        CustomerPeriod(0, 700, False),  # new
        CustomerPeriod(0, 300, True),  # reactivation
        CustomerPeriod(0, 0, True),  # gone before, still gone
    ]
    m = movements(customers)
    assert (m.opening_mrr, m.new, m.expansion, m.contraction, m.churned, m.reactivation) == (
        5000,
        700,
        500,
        800,
        1000,
        300,
    )
    assert m.closing_mrr == m.opening_mrr + m.new + m.expansion - m.contraction - m.churned + m.reactivation
    f = figures(m, Trials(ended=3, converted=2))
    assert (f.mrr, f.arr, f.active_customers) == (4700, 56400, 5)
    assert f.arpa == 940
    assert f.customer_churn_rate == Decimal("0.25")  # 1 of the 4 paying at the start
    assert f.gross_mrr_churn_rate == Decimal("0.36")  # (1000 + 800) / 5000
    assert f.net_mrr_churn_rate == Decimal("0.2")  # (1000 + 800 - 500 - 300) / 5000
    assert f.nrr == Decimal("0.74")  # (1000 + 1500 + 1200) / 5000
    assert f.grr == Decimal("0.64")  # (1000 + 1000 + 1200) / 5000
    assert f.ltv == 3760  # 940 / 0.25
    assert f.trial_conversion_rate == Decimal("0.6667")


def test_no_churn_means_no_ltv_and_empty_periods_have_no_rates() -> None:
    f = figures(movements([CustomerPeriod(1000, 1000, True)]), Trials(0, 0))
    assert f.ltv is None and f.customer_churn_rate == Decimal(0) and f.trial_conversion_rate is None
    empty = figures(movements([]), Trials(0, 0))
    assert (empty.mrr, empty.arpa, empty.nrr) == (0, None, None)


def test_months_are_clamped_and_closed_at_the_next_midnight() -> None:
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 6, 30), -1) == date(2025, 5, 31)
    assert add_months(date(2025, 2, 28), -1) == date(2025, 1, 31)
    assert add_months(date(2025, 5, 15), -1) == date(2025, 4, 15)
    assert add_months(date(2025, 1, 1), -13) == date(2023, 12, 1)
    assert months_between(date(2024, 11, 1), date(2025, 2, 1))[-1] == date(2025, 2, 1)
    assert len(months_between(date(2024, 11, 1), date(2025, 2, 1))) == 4
    assert end_of_month(date(2025, 2, 1)).isoformat() == "2025-03-01T00:00:00+00:00"


def test_a_group_of_customers_counts_as_that_many_alike() -> None:
    alike = [
        CustomerPeriod(1000, 1500, True),
        CustomerPeriod(2000, 0, True),
        CustomerPeriod(0, 700, False),
        CustomerPeriod(0, 300, True),
    ]
    grouped = [period._replace(customers=3) for period in alike]
    assert movements(grouped) == movements(alike * 3)
    assert movements(grouped).churned_customers == 3
