"""Walking customers' events through an ordered funnel.

A customer enters the funnel at an event of the first step; each later step is reached by an event of that step's
type coming after the previous step's event (in (time, event id) order) and no later than `within` after the entry.
Of a customer's entries, the one that reaches furthest counts (the earliest among equals); within an entry each
step takes the earliest qualifying event, which never reaches less far than any other choice.
"""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median


@dataclass(frozen=True)
class Event:
    at: datetime
    event_type: str


@dataclass(frozen=True)
class StepResult:
    event_type: str
    customers: int
    conversion_from_previous: float | None
    conversion_from_first: float | None
    drop_off: int
    """Customers who reached the previous step but not this one (0 for the first step)."""
    median_seconds_from_previous: float | None


def progress(
    events: Sequence[Event], steps: Sequence[str], within: timedelta, enter_before: datetime
) -> list[datetime]:
    """The times at which one customer reached each step, for the entry (before `enter_before`) that reaches
    furthest. `events` in (time, event id) order."""
    positions: dict[str, list[int]] = {step: [] for step in steps}
    for index, event in enumerate(events):
        if event.event_type in positions:
            positions[event.event_type].append(index)
    best: list[datetime] = []
    for entry in positions[steps[0]]:
        if events[entry].at >= enter_before:
            break
        deadline = events[entry].at + within
        reached, previous = [events[entry].at], entry
        for step in steps[1:]:
            candidates = positions[step]
            found = bisect_right(candidates, previous)
            if found == len(candidates) or events[candidates[found]].at > deadline:
                break
            previous = candidates[found]
            reached.append(events[previous].at)
        if len(reached) > len(best):
            best = reached
            if len(best) == len(steps):
                break
    return best


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def funnel(
    journeys: Sequence[Sequence[Event]], steps: Sequence[str], within: timedelta, enter_before: datetime
) -> list[StepResult]:
    """Per step: customers reaching it, conversions, drop-off and the median time from the previous step."""
    reached = [progress(events, steps, within, enter_before) for events in journeys]
    results: list[StepResult] = []
    for index, step in enumerate(steps):
        times = [r for r in reached if len(r) > index]
        count = len(times)
        previous = results[-1].customers if results else count
        gaps = [(r[index] - r[index - 1]).total_seconds() for r in times] if index else []
        results.append(
            StepResult(
                event_type=step,
                customers=count,
                conversion_from_previous=_share(count, previous) if index else None,
                conversion_from_first=_share(count, results[0].customers) if index else None,
                drop_off=previous - count,
                median_seconds_from_previous=median(gaps) if gaps else None,
            )
        )
    return results
