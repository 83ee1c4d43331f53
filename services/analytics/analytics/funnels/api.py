from fastapi import APIRouter, Request
from fastapi.responses import Response
from tally_runtime.tables import CSV_RESPONSES, table_response

from analytics.db import SessionDep
from analytics.funnels import service
from analytics.funnels.schemas import FunnelQuery, FunnelResult

router = APIRouter(tags=["funnels"])


@router.post("/v1/funnels/query", response_model=FunnelResult, responses=CSV_RESPONSES)
async def query_funnel(request: Request, body: FunnelQuery, session: SessionDep) -> Response:
    """Customers through ordered steps: counts, conversion, drop-off and the median time between steps."""
    result = await service.query(session, body)
    rows = [step.model_dump() for step in result.steps]
    return table_response(request, result, rows, filename="funnel")
