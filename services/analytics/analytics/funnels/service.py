"""Funnel use cases. The caller owns the transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.funnels import repository
from analytics.funnels.schemas import FunnelQuery, FunnelResult, FunnelStep
from analytics.funnels.walk import funnel


async def query(session: AsyncSession, request: FunnelQuery) -> FunnelResult:
    journeys = await repository.journeys(session, request.steps, request.from_, request.to + request.within)
    results = funnel(journeys, request.steps, request.within, request.to)
    steps = []
    for index, result in enumerate(results, start=1):
        previous = results[index - 2].customers if index > 1 else None
        steps.append(
            FunnelStep(
                step=index,
                event_type=result.event_type,
                customers=result.customers,
                conversion_from_previous=result.conversion_from_previous,
                conversion_from_first=result.conversion_from_first,
                drop_off=result.drop_off,
                drop_off_rate=round(result.drop_off / previous, 4) if previous else None,
                median_seconds_from_previous=result.median_seconds_from_previous,
            )
        )
    return FunnelResult(from_=request.from_, to=request.to, within_seconds=request.within.total_seconds(), steps=steps)
