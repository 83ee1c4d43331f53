"""Backoff with full jitter, Retry-After, which statuses retry, and reading a 422."""

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tally_client.retry import (
    RetryPolicy,
    backoff,
    is_retryable,
    parse_retry_after,
    rejected_events,
    retry_delay,
)

POLICY = RetryPolicy(max_duration=60, backoff_base=0.1, backoff_max=5.0)


@given(attempt=st.integers(min_value=0, max_value=10_000), seed=st.integers())
def test_backoff_stays_within_the_exponential_ceiling(attempt: int, seed: int) -> None:
    delay = backoff(attempt, POLICY, random.Random(seed))
    assert 0 <= delay <= min(POLICY.backoff_max, POLICY.backoff_base * 2 ** min(attempt, 64))


def test_backoff_grows_then_caps_and_is_jittered_over_the_whole_range() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (5, 3.2), (6, 5.0), (50, 5.0)]:
        delays = [backoff(attempt, POLICY, rng) for _ in range(2000)]
        assert max(delays) <= ceiling
        assert max(delays) > 0.9 * ceiling  # full jitter reaches the top...
        assert min(delays) < 0.1 * ceiling  # ...and the bottom


@given(attempt=st.integers(min_value=0, max_value=100), after=st.floats(min_value=0, max_value=3600))
def test_retry_after_is_a_floor(attempt: int, after: float) -> None:
    assert retry_delay(attempt, after, POLICY, random.Random(0)) >= after
    assert retry_delay(attempt, None, POLICY, random.Random(0)) <= POLICY.backoff_max


def test_retry_after_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(" 120 ", now) == 120.0
    assert parse_retry_after("Sun, 01 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now) == 0.0
    for unreadable in (None, "", "soon", "-1", "1.5e3"):
        assert parse_retry_after(unreadable, now) is None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_retry(status: int) -> None:
    assert is_retryable(status)


@pytest.mark.parametrize("status", [200, 202, 400, 401, 403, 404, 409, 413, 422])
def test_other_statuses_do_not(status: int) -> None:
    assert not is_retryable(status)


def test_a_422_names_the_bad_events_with_their_reasons() -> None:
    problem = {
        "errors": [
            {"field": "body.events.3.timestamp", "reason": "older than 35 days"},
            {"field": "body.events.0.type", "reason": "String should match pattern"},
            {"field": "body.events.3.properties", "reason": "larger than 8192 bytes"},
            {"field": "body.events.7", "reason": "Field required"},
        ]
    }
    assert rejected_events(8, problem) == {
        0: "type: String should match pattern",
        3: "timestamp: older than 35 days; properties: larger than 8192 bytes",
        7: "Field required",
    }


@pytest.mark.parametrize(
    "problem",
    [
        {},
        {"errors": []},
        {"errors": "nope"},
        {"errors": [{"field": "body", "reason": "JSON decode error"}]},
        {"errors": [{"field": "body.events", "reason": "List should have at most 1000 items"}]},
        {"errors": [{"field": "body.events.8.id", "reason": "out of range"}]},
        {"errors": [{"field": "body.events.1.id", "reason": "ok"}, "junk"]},
    ],
)
def test_a_422_that_names_no_event_refuses_the_whole_batch(problem: dict[str, object]) -> None:
    assert rejected_events(8, problem) is None


def test_a_policy_must_make_sense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base=1, backoff_max=0.5)
    with pytest.raises(ValueError):
        RetryPolicy(max_duration=-1)
