from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.tables import CSV_RESPONSES, table_response

from analytics.answers.cache import Answers, Shared
from analytics.answers.repository import Family
from analytics.config import AnalyticsSettings
from analytics.db import SessionDep, Sessions, SessionsDep
from analytics.metrics import service
from analytics.metrics.params import Currency, FromMonth, ToMonth, month_range
from analytics.metrics.schemas import CohortsOut, CustomerList, MrrOut, RevenueOut, SummaryOut
from analytics.today import Today

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])
BILLING: tuple[Family] = ("billing",)


def _settings(request: Request) -> AnalyticsSettings:
    settings: AnalyticsSettings = request.app.state.settings
    return settings


async def _currency(request: Request, sessions: Sessions, shared: Shared, requested: str | None) -> str:
    """The currency asked for, else the one most customers pay in (shared by the answers computed alongside)."""
    if requested:
        return requested

    async def most_common() -> str:
        async with sessions() as session:
            return await service.most_common_currency(session, _settings(request).default_currency)

    return await shared.value("currency", most_common)


@router.get("/summary", response_model=SummaryOut, responses=CSV_RESPONSES)
async def summary(
    request: Request,
    sessions: SessionsDep,
    *,
    answers: Answers,
    today: Today,
    as_of: Annotated[date | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
    currency: Currency = None,
) -> Response:
    """The month ending on `as_of` next to the month before it (definitions: docs/metrics.md)."""
    day = as_of or today

    async def compute(shared: Shared) -> Response:
        code = await _currency(request, sessions, shared, currency)
        async with sessions() as session, session.begin():
            out = await service.summary(session, code, day)
        return table_response(request, out, service.summary_rows(out), filename=f"summary-{day}")

    return await answers.answer(request, BILLING, (day, currency), compute)


@router.get("/mrr", response_model=MrrOut, responses=CSV_RESPONSES)
async def mrr(
    request: Request,
    sessions: SessionsDep,
    *,
    answers: Answers,
    today: Today,
    from_: FromMonth = None,
    to: ToMonth = None,
    currency: Currency = None,
) -> Response:
    """The MRR bridge per month: opening + new + expansion - contraction - churned + reactivation = closing."""
    first, last = month_range(from_, to, today)

    async def compute(shared: Shared) -> Response:
        code = await _currency(request, sessions, shared, currency)
        async with sessions() as session, session.begin():
            out = await service.mrr_bridge(session, code, first, last)
        rows = [month.model_dump() for month in out.months]
        return table_response(request, out, rows, filename=f"mrr-{out.currency}-{first:%Y-%m}-{last:%Y-%m}")

    return await answers.answer(request, BILLING, (first, last, currency), compute)


@router.get("/cohorts", response_model=CohortsOut, responses=CSV_RESPONSES)
async def cohorts(
    request: Request,
    sessions: SessionsDep,
    *,
    answers: Answers,
    today: Today,
    by: Annotated[Literal["month"], Query(description="Cohorts by the month of the first paid month")] = "month",
    kind: Annotated[Literal["logo", "revenue"], Query()] = "logo",
    from_: FromMonth = None,
    to: ToMonth = None,
    currency: Currency = None,
) -> Response:
    first, last = month_range(from_, to, today)

    async def compute(shared: Shared) -> Response:
        code = await _currency(request, sessions, shared, currency)
        async with sessions() as session, session.begin():
            out = await service.cohorts(session, code, kind, first, last)
        return table_response(request, out, service.cohort_rows(out), filename=f"cohorts-{kind}-{out.currency}")

    return await answers.answer(request, BILLING, (by, kind, first, last, currency), compute)


@router.get("/revenue", response_model=RevenueOut, responses=CSV_RESPONSES)
async def revenue(
    request: Request,
    sessions: SessionsDep,
    *,
    answers: Answers,
    today: Today,
    group_by: Annotated[Literal["plan", "month"], Query()] = "month",
    from_: FromMonth = None,
    to: ToMonth = None,
    currency: Currency = None,
) -> Response:
    """Invoiced revenue (not void) by the month its service period began, or by plan."""
    first, last = month_range(from_, to, today)

    async def compute(shared: Shared) -> Response:
        deduct = _settings(request).deduct_discounts
        code = await _currency(request, sessions, shared, currency)
        async with sessions() as session, session.begin():
            out = await service.revenue(session, code, group_by, first, last, deduct_discounts=deduct)
        rows = [row.model_dump(exclude_none=False) for row in out.rows]
        return table_response(request, out.model_dump(by_alias=True), rows, filename=f"revenue-by-{group_by}-{code}")

    return await answers.answer(request, BILLING, (group_by, first, last, currency), compute)


@router.get("/customers", response_model=CustomerList, responses=CSV_RESPONSES)
async def customers(
    request: Request,
    session: SessionDep,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="Only customers paying in it")] = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Every customer with its current MRR, plans and status, by id."""
    out = await service.customers(session, currency, after, limit)
    return table_response(request, out, service.customer_rows(out), filename="customers")
