from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from billing.usage.aggregation import MeterRule, RecordedUsage, daily_totals, numeric_value

CALLS = MeterRule("mtr_calls", "api_call", "count", None)
TOKENS = MeterRule("mtr_tokens", "api_call", "sum", "tokens")
SEATS = MeterRule("mtr_seats", "seat_added", "count", None)


def event(tokens: object, when: datetime, customer: str = "acme", kind: str = "api_call") -> RecordedUsage:
    return RecordedUsage(customer, kind, when, {"tokens": tokens})


def test_count_and_sum_per_customer_and_utc_day() -> None:
    day1 = datetime(2026, 11, 1, 23, 59, tzinfo=UTC)
    # 2026-11-02T00:30+02:00 is 2026-11-01T22:30Z: it belongs to the 1st.
    day1_elsewhere = datetime(2026, 11, 2, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    day2 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    totals = daily_totals(
        [CALLS, TOKENS, SEATS],
        [event(120, day1), event(30, day1_elsewhere), event(5, day2), event(7, day2, customer="globex")],
    )
    assert totals == {
        ("mtr_calls", "acme", date(2026, 11, 1)): 2,
        ("mtr_tokens", "acme", date(2026, 11, 1)): 150,
        ("mtr_calls", "acme", date(2026, 11, 2)): 1,
        ("mtr_tokens", "acme", date(2026, 11, 2)): 5,
        ("mtr_calls", "globex", date(2026, 11, 2)): 1,
        ("mtr_tokens", "globex", date(2026, 11, 2)): 7,
    }


def test_sum_is_exact_for_fractions() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    totals = daily_totals([TOKENS], [event(0.1, when)] * 3)
    assert totals[("mtr_tokens", "acme", date(2026, 11, 1))] == Decimal("0.3")


def test_non_numeric_properties_do_not_count_toward_sums_but_the_event_counts() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    totals = daily_totals([CALLS, TOKENS], [event("12", when), event(True, when), event(None, when)])
    assert totals == {("mtr_calls", "acme", date(2026, 11, 1)): 3}


def test_numeric_value() -> None:
    assert numeric_value(3) == Decimal(3)
    assert numeric_value(2.5) == Decimal("2.5")
    assert numeric_value(float("inf")) is None
    assert numeric_value(False) is None
    assert numeric_value("1") is None
