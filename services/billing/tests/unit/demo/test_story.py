from collections import Counter
from datetime import UTC, datetime

from billing.demo.story import TIERS, signup_weights, write_story

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_the_same_seed_tells_the_same_story_and_another_seed_another() -> None:
    assert write_story(50, 12, NOW, seed=1) == write_story(50, 12, NOW, seed=1)
    assert write_story(50, 12, NOW, seed=1).steps != write_story(50, 12, NOW, seed=2).steps


def test_every_customer_starts_by_subscribing_and_nothing_happens_after_now() -> None:
    story = write_story(300, 24, NOW)
    first: dict[str, str] = {}
    for step in story.steps:
        first.setdefault(step.customer, step.action)
    assert set(first.values()) == {"subscribe"}
    assert list(story.steps) == sorted(story.steps, key=lambda step: (step.at, step.customer))
    assert story.start <= story.steps[0].at and story.steps[-1].at < NOW
    assert (NOW - story.start).days > 700


def test_the_history_has_the_moves_of_a_real_business() -> None:
    story = write_story(500, 24, NOW)
    actions = Counter(step.action for step in story.steps)
    assert actions["subscribe"] > 500  # reactivations come on top of the first subscriptions
    assert actions["cancel"] > 50 and actions["change"] > 20
    plans = Counter(step.plan_key for step in story.steps if step.action == "subscribe")
    assert plans[TIERS[0]] > plans[TIERS[1]] > plans[TIERS[2]] > 0  # the mix: most on the cheapest plan
    assert any(key and key.endswith("_yearly") for key in plans)
    assert any(step.trial for step in story.steps)


def test_signups_grow_and_peak_in_january() -> None:
    weights = signup_weights(datetime(2025, 1, 1, tzinfo=UTC), 24)
    assert weights[12] > weights[0]  # a year later, more
    assert weights[0] > weights[6]  # January beats July
