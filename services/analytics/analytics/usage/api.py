from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, table_response

from analytics.answers.cache import Answers, Shared
from analytics.config import AnalyticsSettings
from analytics.db import SessionDep, SessionsDep
from analytics.today import Today
from analytics.usage import service
from analytics.usage.correlation import MIN_SAMPLE
from analytics.usage.periods import Period


def default_currency(request: Request) -> str:
    """The service's currency for questions asked in one currency without naming it."""
    settings: AnalyticsSettings = request.app.state.settings
    return settings.default_currency


router = APIRouter(tags=["usage analytics"])
MAX_DAYS = 3 * 366
DEFAULT_DAYS = 180

From = Annotated[date | None, Query(alias="from", description="First day (UTC), inclusive; default: `to` - 179 days")]
To = Annotated[date | None, Query(description="Last day (UTC), inclusive; default: today")]


def date_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days [first, last] asked for, defaulted and checked (422 naming the field)."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise Problem(422, "`to` is before `from`.", errors=[{"field": "query.to", "reason": "before from"}])
    if (last - first).days >= MAX_DAYS:
        reason = f"more than {MAX_DAYS} days from `from`"
        raise Problem(422, f"The range is too long: {reason}.", errors=[{"field": "query.to", "reason": reason}])
    return first, last


@router.get("/v1/usage/features", responses=CSV_RESPONSES)
async def features(
    request: Request,
    sessions: SessionsDep,
    *,
    answers: Answers,
    today: Today,
    from_: From = None,
    to: To = None,
    period: Literal["week", "month"] = "month",
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="Default: the service's")] = None,
    retention_days: Annotated[
        int, Query(ge=1, le=730, description="Retained: still subscribed this long after `to`")
    ] = 30,
    min_sample: Annotated[
        int, Query(ge=MIN_SAMPLE, le=100_000, description="No correlation claimed below it")
    ] = MIN_SAMPLE,
) -> Response:
    first, last = date_range(from_, to, today)
    code = currency or default_currency(request)

    async def compute(_: Shared) -> Response:
        async with sessions() as session, session.begin():
            result = await service.features(
                session,
                first,
                last,
                period,
                currency=code,
                retention_days=retention_days,
                min_sample=min_sample,
                now=datetime.now(UTC),
            )
        rows: list[dict[str, Any]] = [
            {
                "event_type": feature.event_type,
                **point.model_dump(),
                "retention": feature.retention.model_dump(),
                "revenue": feature.revenue.model_dump(),
            }
            for feature in result.features
            for point in feature.periods
        ]
        return table_response(request, result, rows, filename="usage-features")

    # whether retention is known yet turns at a midnight: today, in the key, covers it
    params = (first, last, period, code, retention_days, min_sample, today)
    return await answers.answer(request, ("billing", "usage"), params, compute)


@router.get("/v1/customers/{customer_id}/usage-trend", responses=CSV_RESPONSES)
async def usage_trend(
    request: Request,
    customer_id: str,
    session: SessionDep,
    *,
    today: Today,
    feature: Annotated[str | None, Query(max_length=100, description="One event type; default: every type")] = None,
    from_: From = None,
    to: To = None,
    period: Period = "week",
) -> Response:
    first, last = date_range(from_, to, today)
    try:
        result = await service.usage_trend(session, customer_id, first, last, period=period, feature=feature)
    except service.UnknownCustomer:
        raise Problem(404, f"No customer or usage known as {customer_id!r}.") from None
    rows = [
        {"event_type": trend.event_type, "period": point.period, "events": point.events}
        for trend in result.features
        for point in trend.points
    ]
    return table_response(request, result, rows, filename="usage-trend")
