from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, page_response

from billing.db import SessionDep
from billing.plans import repository, service
from billing.plans.models import PlanVersion
from billing.plans.schemas import PlanIn, PlanList, PlanOut, PlanVersionIn

router = APIRouter(prefix="/v1/plans", tags=["plans"])


def _out(plans: Sequence[PlanVersion]) -> list[PlanOut]:
    return [PlanOut.model_validate(plan) for plan in plans]


@router.post("", status_code=201)
async def create_plan(data: PlanIn, session: SessionDep) -> PlanOut:
    """Version 1 of a new plan."""
    try:
        plan = await service.create_plan(session, data)
    except service.InvalidPlan as exc:
        raise Problem(422, "The plan is invalid; see errors.", errors=exc.errors) from None
    except service.PlanExists:
        raise Problem(409, f"A plan with key {data.key!r} exists already; add a version to change it.") from None
    return PlanOut.model_validate(plan)


@router.post("/{key}/versions", status_code=201)
async def change_plan(key: str, terms: PlanVersionIn, session: SessionDep) -> PlanOut:
    """The plan's next version. Subscribers stay on the version they have until they are moved to this one."""
    try:
        plan = await service.change_plan(session, key, terms)
    except service.InvalidPlan as exc:
        raise Problem(422, "The plan is invalid; see errors.", errors=exc.errors) from None
    except service.UnknownPlan:
        raise Problem(404, f"No plan {key!r}.") from None
    return PlanOut.model_validate(plan)


@router.get("", response_model=PlanList, responses=CSV_RESPONSES)
async def list_plans(
    request: Request,
    session: SessionDep,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """The newest version of every plan; `Accept: text/csv` for the page as CSV."""
    plans, cursor = await service.list_plans(session, after, limit)
    return page_response(request, PlanList(data=_out(plans), next_cursor=cursor), filename="plans")


@router.get("/{key}")
async def get_plan(
    key: str, session: SessionDep, version: Annotated[int | None, Query(ge=1, description="Default: newest")] = None
) -> PlanOut:
    plan = await (
        repository.latest_version(session, key) if version is None else repository.version_of(session, key, version)
    )
    if plan is None:
        raise Problem(404, f"No plan {key!r}" + (f" version {version}." if version else "."))
    return PlanOut.model_validate(plan)


@router.get("/{key}/versions")
async def plan_versions(key: str, session: SessionDep) -> list[PlanOut]:
    plans = await repository.versions_of(session, key)
    if not plans:
        raise Problem(404, f"No plan {key!r}.")
    return _out(plans)
