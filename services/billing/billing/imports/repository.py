"""All SQL for imports: the runs, and the map from Stripe's objects to Tally's."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.imports.models import ImportedObject, StripeImport

# The plan locks are 7_361_044 (see plans.repository), the outbox relay's 7_361_043.
_STRIPE_OBJECT_LOCKS = 7_361_045
LIVE = ("queued", "running")


async def lock_stripe_object(session: AsyncSession, stripe_id: str) -> None:
    """Until the transaction ends, no other import works on this Stripe object (a customer and all that is his)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:id))"), {"space": _STRIPE_OBJECT_LOCKS, "id": stripe_id}
    )


async def mapped(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(kind, stripe id): tally id} for those of `keys` imported before."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    query = select(ImportedObject).where(tuple_(ImportedObject.kind, ImportedObject.stripe_id).in_(wanted))
    return {(row.kind, row.stripe_id): row.tally_id for row in (await session.execute(query)).scalars()}


async def map_object(session: AsyncSession, kind: str, stripe_id: str, tally_id: str, import_id: str) -> None:
    statement = insert(ImportedObject).values(kind=kind, stripe_id=stripe_id, tally_id=tally_id, import_id=import_id)
    await session.execute(statement.on_conflict_do_nothing())


async def import_by_id(session: AsyncSession, import_id: str, *, for_update: bool = False) -> StripeImport | None:
    query = select(StripeImport).where(StripeImport.id == import_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def expire_stale(session: AsyncSession, now: datetime, stale_after: timedelta) -> None:
    """Imports whose process stopped beating (an api restart, a crash) are failed: running one again continues."""
    await session.execute(
        update(StripeImport)
        .where(StripeImport.status.in_(LIVE), StripeImport.heartbeat_at < now - stale_after)
        .values(
            status="failed",
            finished_at=now,
            error="interrupted: the process running the import stopped; start it again, it continues where this one "
            "stopped",
        )
    )


async def live_import(session: AsyncSession) -> str | None:
    query = select(StripeImport.id).where(StripeImport.status.in_(LIVE)).order_by(StripeImport.id).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def beat(session: AsyncSession, import_id: str, now: datetime, **changes: Any) -> None:
    await session.execute(update(StripeImport).where(StripeImport.id == import_id).values(heartbeat_at=now, **changes))
