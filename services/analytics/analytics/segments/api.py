from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.tables import CSV_RESPONSES, table_response

from analytics.db import SessionDep
from analytics.segments import service
from analytics.segments.schemas import RfmResult
from analytics.usage.api import default_currency

router = APIRouter(tags=["segments"])
SegmentName = Literal["Champions", "Loyal", "Potential loyalists", "At risk", "Can't lose them", "Hibernating"]


@router.get("/v1/segments/rfm", response_model=RfmResult, responses=CSV_RESPONSES)
async def rfm_segments(
    request: Request,
    session: SessionDep,
    *,
    as_of: Annotated[date | None, Query(description="Last day of the window (UTC); default: today")] = None,
    lookback_days: Annotated[int, Query(ge=1, le=1098, description="Days in the window, ending on as_of")] = 365,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="Default: the service's")] = None,
    segment: Annotated[SegmentName | None, Query(description="List only this segment's customers")] = None,
) -> Response:
    """Recency, frequency and monetary scores of every customer active in the window, and their segments."""
    result = await service.rfm(
        session,
        as_of or datetime.now(UTC).date(),
        lookback_days,
        currency or default_currency(request),
        segment,
    )
    rows = [customer.model_dump() for customer in result.customers]
    return table_response(request, result, rows, filename="rfm-segments")
