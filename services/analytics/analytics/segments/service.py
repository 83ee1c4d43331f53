"""RFM segmentation use case. The caller owns the transaction."""

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.segments import repository
from analytics.segments.rfm import RULES, SEGMENTS, score
from analytics.segments.schemas import CustomerScore, RfmResult, SegmentRule, Thresholds

SCORING = (
    "Quintile scores 1-5: cut point k (1..4) is the value at rank ceil(n*k/5) ascending. F and M: 1 + cut points "
    "exceeded; R: 5 - cut points exceeded (recency in days). FM = round_half_up((F + M) / 2)."
)


async def rfm(session: AsyncSession, as_of: date, lookback_days: int, currency: str, segment: str | None) -> RfmResult:
    """Customers active in the `lookback_days` days up to `as_of`, scored and segmented; the list filtered by
    `segment` when given (counts and thresholds always cover everyone)."""
    first = as_of - timedelta(days=lookback_days - 1)
    activity = await repository.activity(session, first, as_of, currency)
    cuts, scored = score(activity)
    counts = dict.fromkeys(SEGMENTS, 0)
    for item in scored:
        counts[item.segment] += 1
    customers = [
        CustomerScore(
            customer_id=item.activity.customer_id,
            recency_days=item.activity.recency_days,
            frequency=item.activity.frequency,
            monetary_minor=item.activity.monetary_minor,
            r=item.r,
            f=item.f,
            m=item.m,
            fm=item.fm,
            segment=item.segment,
        )
        for item in scored
        if segment is None or item.segment == segment
    ]
    thresholds = Thresholds(
        recency_days=cuts.recency_days,
        frequency=cuts.frequency,
        monetary_minor=cuts.monetary_minor,
        scoring=SCORING,
        rules=[
            SegmentRule(segment=name, r=(r_lo, r_hi), fm=(fm_lo, fm_hi)) for name, r_lo, r_hi, fm_lo, fm_hi in RULES
        ],
    )
    return RfmResult(
        as_of=as_of,
        lookback_days=lookback_days,
        currency=currency,
        customers_scored=len(scored),
        thresholds=thresholds,
        counts=counts,
        customers=customers,
    )
