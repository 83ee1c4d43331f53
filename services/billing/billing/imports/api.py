from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.ids import new_id
from tally_runtime.problems import Problem

from billing.config import BillingSettings
from billing.db import SessionDep
from billing.imports import repository, runner
from billing.imports.context import Run
from billing.imports.models import StripeImport
from billing.imports.schemas import ImportCounts, ImportOut, StripeImportIn
from billing.payment.stripe_import import StripeReader

router = APIRouter(prefix="/v1/imports", tags=["imports"])
_ONE_AT_A_TIME = "stripe import"  # the advisory lock that keeps two starts from racing


@router.post("/stripe", status_code=202)
async def import_from_stripe(data: StripeImportIn, request: Request, response: Response) -> ImportOut:
    """Backfills customers, plans, subscriptions with their history, invoices, payments, refunds and disputes from a
    Stripe account, in the background; `GET /v1/imports/{id}` shows how far it got. Running it again creates nothing
    twice. The key is held in memory for the run only."""
    settings: BillingSettings = request.app.state.billing_settings
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    now = datetime.now(UTC)
    mode = data.api_key.get_secret_value()[3:8]
    row = StripeImport(
        id=new_id("imp"),
        status="queued",
        livemode={"live_": True, "test_": False}.get(mode),
        counts=ImportCounts().model_dump(),
        skipped=[],
        error=None,
        created_at=now,
        started_at=None,
        finished_at=None,
        heartbeat_at=now,
    )
    async with sessions() as session, session.begin():  # committed before the run starts
        await repository.lock_stripe_object(session, _ONE_AT_A_TIME)
        await repository.expire_stale(session, now, runner.STALE_AFTER)
        if running := await repository.live_import(session):
            raise Problem(409, f"The import {running} is still running; wait for it to end.")
        session.add(row)
    api_base = (settings.stripe_api_base if data.api_base is None else data.api_base).rstrip("/")
    reader = StripeReader(data.api_key, api_base)
    runner.start(sessions, Run(row.id, now, data.default_currency), reader)
    response.headers["Location"] = f"/v1/imports/{row.id}"
    return ImportOut.model_validate(row)


@router.get("/{import_id}")
async def get_import(import_id: str, session: SessionDep) -> ImportOut:
    await repository.expire_stale(session, datetime.now(UTC), runner.STALE_AFTER)
    found = await repository.import_by_id(session, import_id)
    if found is None:
        raise Problem(404, f"No import {import_id!r}.")
    return ImportOut.model_validate(found)
