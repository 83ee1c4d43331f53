"""Pure: who does what, when, over the months of a synthetic history. Deterministic for a seed."""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

TIERS = ("starter", "professional", "enterprise")
TIER_MIX = (0.55, 0.33, 0.12)
MONTHLY_CHURN = {"starter": 0.045, "professional": 0.025, "enterprise": 0.012}
YEARLY_SHARE = 0.15
YEARLY_RENEWAL_CHURN = 0.12
TRIAL_SHARE = 0.4
TRIAL_DROP = 0.3
EXPANSION = 0.03
CONTRACTION = 0.012
REACTIVATION = 0.04
GROWTH = 0.06  # signups grow this much a month
SEASONALITY = 0.25  # January brings this much more than average, July this much less
MONTH = timedelta(days=30)

Action = Literal["subscribe", "change", "cancel"]


@dataclass(frozen=True)
class Step:
    at: datetime
    customer: str  # the external id
    action: Action
    plan_key: str | None = None  # subscribe, change
    trial: bool = False  # subscribe
    at_period_end: bool = True  # cancel


@dataclass(frozen=True)
class Story:
    start: datetime
    customers: tuple[str, ...]
    steps: tuple[Step, ...]  # in time order


def signup_weights(start: datetime, months: int) -> list[float]:
    """Growth month over month, with a yearly season peaking in January."""
    weights = []
    for month in range(months):
        calendar_month = (start.month - 1 + month) % 12
        weights.append((1 + GROWTH) ** month * (1 + SEASONALITY * math.cos(2 * math.pi * calendar_month / 12)))
    return weights


def write_story(customers: int, months: int, now: datetime, seed: int = 42) -> Story:
    rng = random.Random(seed)
    start = (now - timedelta(days=months * 30.44)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months_of = rng.choices(range(months), weights=signup_weights(start, months), k=customers)
    names = tuple(f"demo-{n:05d}" for n in range(customers))
    steps: list[Step] = []
    for name, month in zip(names, sorted(months_of), strict=True):
        signup = start + MONTH * month + timedelta(seconds=rng.uniform(0, MONTH.total_seconds()))
        steps += _life(rng, name, signup, now)
    return Story(start, names, tuple(sorted(steps, key=lambda step: (step.at, step.customer))))


def _life(rng: random.Random, name: str, signup: datetime, now: datetime) -> list[Step]:
    """One customer's steps from signup until now: month by month, at most one change a month."""
    tier = rng.choices(TIERS, weights=TIER_MIX)[0]
    yearly = rng.random() < YEARLY_SHARE
    trial = not yearly and rng.random() < TRIAL_SHARE
    steps = [Step(signup, name, "subscribe", _key(tier, yearly=yearly), trial=trial)]
    at, live = signup, True
    if trial and rng.random() < TRIAL_DROP:
        steps.append(Step(signup + timedelta(days=rng.uniform(3, 12)), name, "cancel", at_period_end=False))
        at, live = signup + MONTH * 2, False
    while (at := at + MONTH) < now:
        moment = at + timedelta(days=rng.uniform(1, 25))
        if moment >= now:
            break
        if not live:
            if rng.random() < REACTIVATION:
                tier, yearly, live = rng.choice(TIERS[:2]), False, True
                steps.append(Step(moment, name, "subscribe", _key(tier, yearly=False)))
            continue
        if rng.random() < _churn(tier, yearly, moment, steps[-1].at):
            steps.append(Step(moment, name, "cancel", at_period_end=rng.random() < 0.7))
            live, at = False, at + MONTH * 2  # gone for a while before any return
        elif not yearly and (change := _change(rng, tier)) is not None:
            tier = change
            steps.append(Step(moment, name, "change", _key(tier, yearly=False)))
    return steps


def _churn(tier: str, yearly: bool, moment: datetime, last_step: datetime) -> float:
    if yearly:  # yearly plans leave at a renewal
        return YEARLY_RENEWAL_CHURN if (moment - last_step).days % 365 < 31 else 0.0
    return MONTHLY_CHURN[tier]


def _change(rng: random.Random, tier: str) -> str | None:
    roll, position = rng.random(), TIERS.index(tier)
    if roll < EXPANSION and position < len(TIERS) - 1:
        return TIERS[position + 1]
    if roll > 1 - CONTRACTION and position > 0:
        return TIERS[position - 1]
    return None


def _key(tier: str, *, yearly: bool) -> str:
    return f"{tier}_yearly" if yearly else tier
