from datetime import date

from analytics.metrics.bridge import MovementTotal, bridge
from analytics.metrics.cohorts import Move, cohort_matrix

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def test_the_bridge_adds_up_and_chains_months() -> None:
    moves = {
        (JAN, "new"): MovementTotal(2, 9800),
        (FEB, "expansion"): MovementTotal(1, 5000),
        (FEB, "churn"): MovementTotal(1, 4900),
        (MAR, "contraction"): MovementTotal(1, 2000),
        (MAR, "reactivation"): MovementTotal(1, 4900),
    }
    rows = bridge([JAN, FEB, MAR], 1000, 1, moves, {FEB: 123})
    assert [r.closing_mrr for r in rows] == [10800, 10900, 13800]
    assert [r.opening_mrr for r in rows] == [1000, 10800, 10900]
    assert [r.customers.closing for r in rows] == [3, 2, 3]
    assert rows[1].churned == 4900 and rows[1].customers.churned == 1
    assert [r.usage_revenue for r in rows] == [0, 123, 0]
    for r in rows:
        assert r.opening_mrr + r.new + r.expansion - r.contraction - r.churned + r.reactivation == r.closing_mrr


def test_cohorts_follow_customers_from_their_first_paid_month() -> None:
    moves = [
        Move("a", JAN, 1000),
        Move("a", MAR, 0),
        Move("b", JAN, 3000),
        Move("b", FEB, 4000),
        Move("c", FEB, 500),
    ]
    logo = cohort_matrix(moves, JAN, MAR, kind="logo")
    assert [(c.cohort, c.customers) for c in logo] == [(JAN, 2), (FEB, 1)]
    assert [cell.value for cell in logo[0].cells] == [2, 2, 1]
    assert str(logo[0].cells[2].retention) == "0.5000"
    revenue = cohort_matrix(moves, JAN, MAR, kind="revenue")
    assert [cell.value for cell in revenue[0].cells] == [4000, 5000, 4000]
    assert str(revenue[0].cells[1].retention) == "1.2500"
    assert cohort_matrix(moves, FEB, MAR, kind="logo")[0].customers == 1  # January's cohort is outside
