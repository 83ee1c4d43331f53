from datetime import UTC, datetime, timedelta

import pytest
from billing.payment.dunning import Policy

FAILED = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)


def test_retries_come_on_the_policys_days_after_the_first_failure_then_stop() -> None:
    policy = Policy()
    assert [policy.next_attempt(FAILED, n) for n in (1, 2, 3, 4)] == [
        FAILED + timedelta(days=3),
        FAILED + timedelta(days=5),
        FAILED + timedelta(days=7),
        None,
    ]
    assert policy.grace_ends(FAILED) == FAILED + timedelta(days=14)


def test_no_retries_means_the_first_failure_is_the_last() -> None:
    assert Policy(retry_after_days=()).next_attempt(FAILED, 1) is None


@pytest.mark.parametrize("days", [(5, 3), (3, 3), (0, 2), (3, 20)])
def test_a_policy_that_cannot_work_is_refused(days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        Policy(retry_after_days=days)


def test_a_failure_count_below_one_is_a_bug() -> None:
    with pytest.raises(ValueError):
        Policy().next_attempt(FAILED, 0)
