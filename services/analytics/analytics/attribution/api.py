from fastapi import APIRouter, Request
from fastapi.responses import Response
from tally_runtime.tables import CSV_RESPONSES, table_response

from analytics.attribution import service
from analytics.attribution.schemas import AttributionQuery, AttributionResult
from analytics.db import SessionDep

router = APIRouter(tags=["attribution"])


@router.post("/v1/attribution/query", response_model=AttributionResult, responses=CSV_RESPONSES)
async def query_attribution(request: Request, body: AttributionQuery, session: SessionDep) -> Response:
    """Revenue attributed to the usage touchpoints before each conversion, by one model."""
    result = await service.query(session, body)
    rows = []
    for currency in result.currencies:
        rows += [{"currency": currency.currency, **credit.model_dump()} for credit in currency.touchpoints]
        # the conversions without a touchpoint: an empty event_type, so the rows add up to the total
        rows.append({"currency": currency.currency, "event_type": None, **currency.unattributed.model_dump()})
    return table_response(request, result, rows, filename="attribution")
