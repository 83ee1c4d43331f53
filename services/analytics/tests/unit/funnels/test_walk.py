from datetime import UTC, datetime, timedelta

import pytest
from analytics.funnels.walk import Event, funnel, progress

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=365)
STEPS = ["signup", "api_call", "upgrade"]


def at(hours: float, event_type: str) -> Event:
    return Event(T0 + timedelta(hours=hours), event_type)


def test_steps_must_come_in_order_within_the_window_from_the_entry() -> None:
    week = timedelta(days=7)
    assert progress([at(0, "signup"), at(1, "api_call"), at(2, "upgrade")], STEPS, week, LATER) == [
        T0,
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
    ]
    # upgrade before the api call does not count
    assert len(progress([at(0, "signup"), at(1, "upgrade"), at(2, "api_call")], STEPS, week, LATER)) == 2
    # upgrade 8 days after signup is outside a 7-day window
    assert len(progress([at(0, "signup"), at(1, "api_call"), at(8 * 24, "upgrade")], STEPS, week, LATER)) == 2
    # no entry: nothing
    assert progress([at(1, "api_call"), at(2, "upgrade")], STEPS, week, LATER) == []


def test_a_later_entry_that_reaches_further_wins() -> None:
    events = [at(0, "signup"), at(10 * 24, "signup"), at(10 * 24 + 1, "api_call"), at(10 * 24 + 2, "upgrade")]
    reached = progress(events, STEPS, timedelta(days=7), LATER)
    assert reached[0] == T0 + timedelta(days=10)
    assert len(reached) == 3


def test_entries_after_the_range_do_not_count() -> None:
    events = [at(0, "signup"), at(1, "api_call")]
    assert progress(events, STEPS, timedelta(days=7), T0) == []


def test_counts_conversions_drop_off_and_median_gaps() -> None:
    journeys = [
        [at(0, "signup"), at(1, "api_call"), at(3, "upgrade")],  # 1 h, then 2 h
        [at(0, "signup"), at(3, "api_call"), at(4, "upgrade")],  # 3 h, then 1 h
        [at(0, "signup"), at(5, "api_call")],  # 5 h
        [at(0, "signup")],
    ]
    steps = funnel(journeys, STEPS, timedelta(days=1), LATER)
    assert [s.customers for s in steps] == [4, 3, 2]
    assert [s.drop_off for s in steps] == [0, 1, 1]
    assert steps[1].conversion_from_previous == 0.75
    assert steps[2].conversion_from_previous == pytest.approx(round(2 / 3, 4))
    assert steps[2].conversion_from_first == 0.5
    assert steps[1].median_seconds_from_previous == 3 * 3600  # median of 1, 3, 5 hours
    assert steps[2].median_seconds_from_previous == 1.5 * 3600  # median of 2 and 1 hours
    assert steps[0].median_seconds_from_previous is None


def test_a_repeated_step_needs_a_second_event() -> None:
    once = [at(0, "api_call")]
    twice = [at(0, "api_call"), at(0, "api_call")]
    steps = ["api_call", "api_call"]
    assert len(progress(once, steps, timedelta(hours=1), LATER)) == 1
    assert len(progress(twice, steps, timedelta(hours=1), LATER)) == 2
