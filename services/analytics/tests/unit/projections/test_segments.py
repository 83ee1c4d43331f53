"""MRR segments and monthly movements from small hand-built change logs."""

from datetime import UTC, date, datetime
from itertools import count

from analytics.projections.segments import Change, Policy, Segment, month_moves, mrr_at, segments_of

POLICY = Policy(past_due_active_days=30, churn_at_cancellation=False)
_ids = count()


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def change(day: str, status: str = "active", mrr: int = 4900, *, sub: str = "sub_1", **fields: object) -> Change:
    values: dict[str, object] = {
        "event_id": f"evt_{next(_ids)}",
        "subscription_id": sub,
        "customer_id": "cus_1",
        "currency": "USD",
        "status": status,
        "plan_key": "starter",
        "interval": "month",
        "mrr_minor": mrr,
        "cancel_at_period_end": False,
        "effective_at": at(day),
        "event_time": at(day),
    } | fields
    return Change(**values)  # type: ignore[arg-type]


def test_segments_follow_effective_time_not_arrival_order() -> None:
    log = [change("2025-03-01", mrr=9900), change("2025-01-01"), change("2025-05-01", "canceled", 0)]
    segments = segments_of(reversed(log), POLICY)
    assert [(s.valid_from, s.valid_to, s.mrr_minor) for s in segments] == [
        (at("2025-01-01"), at("2025-03-01"), 4900),
        (at("2025-03-01"), at("2025-05-01"), 9900),
        (at("2025-05-01"), None, 0),
    ]


def test_a_day_counts_its_state_at_its_end() -> None:
    segments = segments_of([change("2025-01-01"), change("2025-03-01", "canceled", 0)], POLICY)
    assert mrr_at(segments, at("2025-01-01")) == 0  # the end of 31 December
    assert mrr_at(segments, at("2025-01-02")) == 4900
    assert mrr_at(segments, at("2025-03-01")) == 4900  # the end of 28 February: still paying
    assert mrr_at(segments, at("2025-03-02")) == 0


def test_past_due_counts_for_the_configured_days_then_stops() -> None:
    log = [change("2025-01-01"), change("2025-02-01", "past_due"), change("2025-02-10", "past_due")]
    segments = segments_of(log, Policy(past_due_active_days=14, churn_at_cancellation=False))
    assert mrr_at(segments, at("2025-02-15")) == 4900
    assert mrr_at(segments, at("2025-02-16")) == 0  # 1 Feb + 14 days
    recovered = segments_of([*log, change("2025-02-20")], Policy(14, churn_at_cancellation=False))
    assert mrr_at(recovered, at("2025-02-25")) == 4900


def test_trials_and_unpaid_count_nothing() -> None:
    log = [change("2025-01-01", "trialing", 0), change("2025-01-15"), change("2025-03-01", "unpaid")]
    segments = segments_of(log, POLICY)
    assert [mrr_at(segments, at(d)) for d in ("2025-01-10", "2025-02-01", "2025-03-05")] == [0, 4900, 0]


def test_churn_at_cancellation_stops_mrr_when_the_cancellation_is_scheduled() -> None:
    log = [change("2025-01-01"), change("2025-02-10", cancel_at_period_end=True), change("2025-03-01", "canceled", 0)]
    at_period_end = segments_of(log, POLICY)
    at_cancellation = segments_of(log, Policy(30, churn_at_cancellation=True))
    assert mrr_at(at_period_end, at("2025-02-20")) == 4900
    assert mrr_at(at_cancellation, at("2025-02-20")) == 0


def test_changes_at_the_same_instant_keep_the_last() -> None:
    same = at("2025-02-01")
    log = [change("2025-01-01"), change("2025-02-01", mrr=100, event_time=same), change("2025-02-01", mrr=200)]
    log[2] = Change(**(vars(log[2]) | {"event_time": at("2025-02-02")}))
    assert mrr_at(segments_of(log, POLICY), at("2025-02-10")) == 200


def segment(start: str, end: str | None, mrr: int, sub: str = "sub_1") -> Segment:
    return Segment("cus_1", sub, "USD", "p", "month", "active", at(start), at(end) if end else None, mrr)


def test_month_moves_classify_each_month_whose_closing_changed() -> None:
    segments = [
        segment("2025-01-15", "2025-03-10", 4900),
        segment("2025-03-10", "2025-04-01", 9900),
        segment("2025-04-01", "2025-05-20", 2900),
        segment("2025-08-01", None, 4900),
        segment("2025-09-01", None, 1000, sub="sub_2"),
    ]
    moves = [(m.month, m.opening_mrr_minor, m.closing_mrr_minor, m.movement) for m in month_moves("c", "USD", segments)]
    assert moves == [
        (date(2025, 1, 1), 0, 4900, "new"),
        (date(2025, 3, 1), 4900, 9900, "expansion"),
        (date(2025, 4, 1), 9900, 2900, "contraction"),
        (date(2025, 5, 1), 2900, 0, "churn"),
        (date(2025, 8, 1), 0, 4900, "reactivation"),
        (date(2025, 9, 1), 4900, 5900, "expansion"),
    ]


def test_a_yearly_plan_is_a_twelfth_and_a_churn_at_midnight_belongs_to_the_new_month() -> None:
    segments = [segment("2025-01-01", "2026-01-01", 10000)]  # 120,000 a year -> mrr_minor 10,000
    moves = month_moves("c", "USD", segments)
    assert [(m.month, m.movement) for m in moves] == [(date(2025, 1, 1), "new"), (date(2026, 1, 1), "churn")]
