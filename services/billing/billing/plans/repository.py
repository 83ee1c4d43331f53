"""All SQL for plans."""

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.plans.models import PlanVersion


async def insert_version(session: AsyncSession, plan: PlanVersion) -> bool:
    """False when that key already has that version."""
    values = {
        column.key: getattr(plan, column.key) for column in PlanVersion.__table__.columns if column.key != "created_at"
    }
    statement = insert(PlanVersion).values(values).on_conflict_do_nothing(index_elements=["key", "version"])
    result = await session.execute(statement.returning(PlanVersion.id))
    return result.scalar_one_or_none() is not None


# Row locks cannot serialize the next version: a waiter re-reads the row it locked, not the version added meanwhile.
_PLAN_LOCKS = 7_361_044  # the outbox relay locks (7_361_043, hashtext(schema))


async def lock_plan(session: AsyncSession, key: str) -> None:
    """Until the transaction ends, no one else adds a version of this plan."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": _PLAN_LOCKS, "key": key}
    )


async def latest_version(session: AsyncSession, key: str) -> PlanVersion | None:
    query = select(PlanVersion).where(PlanVersion.key == key).order_by(PlanVersion.version.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def version_of(session: AsyncSession, key: str, version: int) -> PlanVersion | None:
    query = select(PlanVersion).where(PlanVersion.key == key, PlanVersion.version == version)
    return (await session.execute(query)).scalar_one_or_none()


async def versions_of(session: AsyncSession, key: str) -> Sequence[PlanVersion]:
    query = select(PlanVersion).where(PlanVersion.key == key).order_by(PlanVersion.version)
    return (await session.execute(query)).scalars().all()


async def latest_versions(session: AsyncSession, after: str | None, limit: int) -> Sequence[PlanVersion]:
    """The newest version of each plan, by key."""
    query = (
        select(PlanVersion)
        .ext(distinct_on(PlanVersion.key))
        .order_by(PlanVersion.key, PlanVersion.version.desc())
        .limit(limit)
    )
    if after:
        query = query.where(PlanVersion.key > after)
    return (await session.execute(query)).scalars().all()
