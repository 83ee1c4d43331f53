"""All SQL for the audit log."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEntry


async def insert_entry(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def newest_first(session: AsyncSession, before: str | None, limit: int) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before:
        query = query.where(AuditEntry.id < before)
    return (await session.execute(query)).scalars().all()
