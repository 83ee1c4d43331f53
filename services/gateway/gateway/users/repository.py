"""All SQL for users."""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.users.models import User


class DuplicateEmail(Exception):
    pass


async def insert_user(session: AsyncSession, user: User) -> User:
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise DuplicateEmail(user.email) from None
    await session.refresh(user)
    return user


async def insert_if_absent(session: AsyncSession, user_id: str, email: str, role: str, password_hash: str) -> bool:
    statement = (
        insert(User)
        .values(id=user_id, email=email, role=role, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def user_by_id(session: AsyncSession, user_id: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.id == user_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def list_users(session: AsyncSession, after: str | None, limit: int) -> Sequence[User]:
    query = select(User).order_by(User.id).limit(limit)
    if after:
        query = query.where(User.id > after)
    return (await session.execute(query)).scalars().all()


async def lock_admins(session: AsyncSession) -> int:
    """The number of admins, with their rows locked: two concurrent demotions cannot both leave one admin fewer."""
    ids = (await session.execute(select(User.id).where(User.role == "admin").with_for_update())).scalars().all()
    return len(ids)


async def update_user(session: AsyncSession, user: User, changes: dict[str, str]) -> User:
    """Changes applied inside a savepoint (a taken email rolls back only them)."""
    try:
        async with session.begin_nested():
            for name, value in changes.items():
                setattr(user, name, value)
            user.updated_at = func.now()
            await session.flush()
    except IntegrityError:
        raise DuplicateEmail(changes.get("email", "")) from None
    await session.refresh(user)
    return user


async def delete_user(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(User).where(User.id == user_id))
