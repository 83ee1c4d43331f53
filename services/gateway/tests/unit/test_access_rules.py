"""The pure rules: lockout windows, token buckets, permissions of roles and scopes."""

from datetime import UTC, datetime, timedelta

import pytest
from gateway.access.permissions import of_role, of_scopes
from gateway.access.ratelimit import RateLimiter, retry_after
from gateway.sessions.lockout import locked_for

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_four_failures_do_not_lock() -> None:
    assert locked_for([NOW - timedelta(minutes=m) for m in range(4)], NOW, 5, WINDOW) == 0.0


def test_five_lock_until_the_oldest_leaves_the_window() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (10, 5, 3, 2, 1)]
    assert locked_for(failures, NOW, 5, WINDOW) == timedelta(minutes=5).total_seconds()


def test_with_more_failures_the_lock_lasts_until_fewer_than_the_limit_remain() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (14, 12, 9, 3, 2, 1)]
    assert locked_for(failures, NOW, 5, WINDOW) == timedelta(minutes=15 - 12).total_seconds()


def test_failures_outside_the_window_do_not_count() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (40, 30, 20, 16, 1)]
    assert locked_for(failures, NOW, 5, WINDOW) == 0.0


def test_a_bucket_holds_its_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(burst_s=2.0)
    assert [limiter.take("k", 2.0, 100.0) for _ in range(4)] == [0.0] * 4
    assert limiter.take("k", 2.0, 100.0) == pytest.approx(0.5)
    assert limiter.take("k", 2.0, 100.5) == 0.0
    assert limiter.take("other", 2.0, 100.5) == 0.0


def test_a_slow_rate_still_allows_one_request() -> None:
    limiter = RateLimiter(burst_s=1.0)
    assert limiter.take("k", 0.1, 0.0) == 0.0
    assert limiter.take("k", 0.1, 1.0) == pytest.approx(9.0)
    assert retry_after(9.0) == "9"
    assert retry_after(0.01) == "1"


def test_a_flood_of_credentials_cannot_grow_memory() -> None:
    limiter = RateLimiter(burst_s=1.0, max_buckets=10)
    for n in range(100):
        limiter.take(f"k{n}", 1.0, 0.0)
    assert len(limiter._buckets) <= 10


def test_roles_and_scopes() -> None:
    assert of_role("viewer") == {"read"}
    assert of_role("analyst") == {"read", "query"}
    assert of_role("admin") == {"read", "query", "ingest", "admin"}
    assert of_role("root") == frozenset()
    assert of_scopes(["ingest"]) == {"ingest"}
    assert of_scopes(["read", "ingest"]) == {"read", "ingest"}
    assert "ingest" not in of_scopes(["admin"])
