from fastapi import APIRouter, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, page_response

from billing.catalog import repository, service
from billing.catalog.schemas import MeterCreate, MeterList, MeterOut
from billing.db import SessionDep

router = APIRouter(prefix="/v1/meters", tags=["meters"])


@router.post("", status_code=201)
async def create_meter(data: MeterCreate, session: SessionDep) -> MeterOut:
    try:
        meter = await service.create_meter(session, data)
    except service.MeterExists:
        raise Problem(409, f"A meter with key {data.key!r} exists already.") from None
    return MeterOut.model_validate(meter)


@router.get("", response_model=MeterList, responses=CSV_RESPONSES)
async def list_meters(
    request: Request,
    session: SessionDep,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Cursor pages; `Accept: text/csv` for the page as CSV."""
    meters, cursor = await service.list_meters(session, after, limit)
    page = MeterList(data=[MeterOut.model_validate(m) for m in meters], next_cursor=cursor)
    return page_response(request, page, filename="meters")


@router.get("/{meter_id}")
async def get_meter(meter_id: str, session: SessionDep) -> MeterOut:
    meter = await repository.meter_by_id(session, meter_id)
    if meter is None:
        raise Problem(404, f"No meter {meter_id!r}.")
    return MeterOut.model_validate(meter)
