"""Usage use cases. The caller owns the transaction."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent, usage_items
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Recorded

from analytics.usage import repository
from analytics.usage.correlation import Correlation, spearman
from analytics.usage.periods import Period, midnight, next_start, period_start, period_starts
from analytics.usage.schemas import Claim, Feature, FeaturePeriod, Features, FeatureTrend, TrendPoint, UsageTrend
from analytics.usage.trend import trend


class UnknownCustomer(Exception):
    pass


async def record_usage(
    session: AsyncSession, messages: Sequence[UsageRecordedEvent | UsageBatchRecordedEvent]
) -> Recorded:
    """Keep each event the messages carry once (by customer and event id) and count the new ones per UTC day."""
    events = [
        (customer_id, item.event_id, item.event_type, item.timestamp)
        for message in messages
        for customer_id, item in usage_items(message)
    ]
    new = await repository.record_events(session, events)
    return Recorded(events=len(events), new=new)


def _claim(correlation: Correlation) -> Claim:
    return Claim(n=correlation.n, rho=correlation.rho, p_value=correlation.p_value, reason=correlation.reason)


async def features(
    session: AsyncSession,
    first: date,
    last: date,
    period: Literal["week", "month"],
    *,
    currency: str,
    retention_days: int,
    min_sample: int,
    now: datetime,
) -> Features:
    """Adoption per event type and period over the days [first, last], and each type's correlations with
    retention and MRR among the subscribers at `first` (see docs/usage-analytics.md)."""
    starts = period_starts(first, last + timedelta(days=1), period)
    stops = [next_start(start, period) for start in starts]
    adopters, active = await repository.adoption(session, period, starts, stops)
    by_type: dict[str, dict[date, repository.Adopters]] = defaultdict(dict)
    for row in adopters:
        by_type[row.event_type][row.period] = row
    cohort, usage, horizon = await _cohort(session, first, last, currency, retention_days)
    result = []
    for event_type, rows in sorted(by_type.items()):
        points = [_adoption(start, rows.get(start), active.get(start, 0)) for start in starts]
        xs = [usage.get((c.customer_id, event_type), 0) for c in cohort]
        retention = spearman(xs, [int(c.retained) for c in cohort], min_sample=min_sample)
        if horizon > now:
            retention = Correlation(len(cohort), None, None, f"retention is known from {horizon.date()} only")
        revenue = spearman(xs, [c.mrr_minor for c in cohort], min_sample=min_sample)
        result.append(
            Feature(event_type=event_type, periods=points, retention=_claim(retention), revenue=_claim(revenue))
        )
    return Features(
        from_=first,
        to=last,
        period=period,
        currency=currency,
        retention_days=retention_days,
        min_sample=min_sample,
        features=result,
    )


def _adoption(start: date, found: repository.Adopters | None, active: int) -> FeaturePeriod:
    used = found.customers if found else 0
    return FeaturePeriod(
        period=start,
        active_customers=active,
        customers=used,
        adoption=round(used / active, 4) if active else None,
        events=found.events if found else 0,
    )


async def _cohort(
    session: AsyncSession, first: date, last: date, currency: str, retention_days: int
) -> tuple[list[repository.Subscriber], dict[tuple[str, str], int], datetime]:
    """Subscribers at the start, their usage over the range, and when their retention is read."""
    end = last + timedelta(days=1)
    horizon = midnight(end) + timedelta(days=retention_days)
    cohort = await repository.subscribers(session, midnight(first), currency, horizon, midnight(end))
    usage = await repository.usage_of(session, [c.customer_id for c in cohort], first, end)
    return cohort, usage, horizon


async def usage_trend(
    session: AsyncSession, customer: str, first: date, last: date, *, period: Period, feature: str | None
) -> UsageTrend:
    """The customer's events per period and event type over the days [first, last], with each type's trend."""
    resolved = await repository.resolve_customer(session, customer)
    if resolved is None:
        raise UnknownCustomer(customer)
    customer_id, external_id = resolved
    end = last + timedelta(days=1)
    starts = period_starts(first, end, period)
    # a requested feature without usage still shows, as zeros
    counts: dict[str, dict[date, int]] = {feature: dict.fromkeys(starts, 0)} if feature else {}
    for day, event_type, events in await repository.customer_days(session, external_id, first, end, feature):
        counts.setdefault(event_type, dict.fromkeys(starts, 0))[period_start(day, period)] += events
    features = []
    for event_type, series in sorted(counts.items()):
        values = [series[start] for start in starts]
        shape = trend(values)
        features.append(
            FeatureTrend(
                event_type=event_type,
                total=sum(values),
                points=[TrendPoint(period=start, events=value) for start, value in zip(starts, values, strict=True)],
                slope=shape.slope,
                first_half=shape.first_half,
                second_half=shape.second_half,
                change_pct=shape.change_pct,
            )
        )
    return UsageTrend(
        customer_id=customer_id, external_id=external_id, from_=first, to=last, period=period, features=features
    )
