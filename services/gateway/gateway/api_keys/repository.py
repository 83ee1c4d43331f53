"""All SQL for API keys."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api_keys.models import ApiKey


async def insert_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    await session.refresh(key)  # created_at comes from the database
    return key


async def key_by_id(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def active_key_by_hash(session: AsyncSession, digest: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.hash == digest, ApiKey.revoked_at.is_(None))
    return (await session.execute(query)).scalar_one_or_none()


async def list_keys(session: AsyncSession, after: str | None, limit: int) -> Sequence[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id).limit(limit)
    if after:
        query = query.where(ApiKey.id > after)
    return (await session.execute(query)).scalars().all()


async def revoke_key(session: AsyncSession, key_id: str) -> datetime | None:
    """Revoke an active key now and return the revocation time; None when no active key has that id (a concurrent
    revocation of the same key waits for the row lock, then finds it revoked)."""
    statement = (
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiKey.revoked_at)
    )
    return (await session.execute(statement)).scalar_one_or_none()
