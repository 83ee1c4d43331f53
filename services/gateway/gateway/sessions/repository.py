"""All SQL for sessions, tokens and failed logins."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.sessions.models import LoginFailure, UserSession
from gateway.users.models import User


async def insert_session(session: AsyncSession, row: UserSession) -> None:
    session.add(row)
    await session.flush()


async def active_with_user(
    session: AsyncSession, id_hash: str, kind: str, idle_since: datetime
) -> tuple[UserSession, User] | None:
    """The unexpired session (or token) with this hash and its user; a session idle since before `idle_since` is
    over (tokens have no idle timeout)."""
    query = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id_hash == id_hash, UserSession.kind == kind, UserSession.expires_at > func.now())
    )
    if kind == "session":
        query = query.where(UserSession.last_seen_at > idle_since)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch(session: AsyncSession, id_hash: str) -> None:
    await session.execute(update(UserSession).where(UserSession.id_hash == id_hash).values(last_seen_at=func.now()))


async def delete_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.id_hash == id_hash))


async def delete_for_user(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id))


async def delete_expired(session: AsyncSession, user_id: str, idle_since: datetime) -> None:
    over = (UserSession.expires_at <= func.now()) | (
        (UserSession.kind == "session") & (UserSession.last_seen_at <= idle_since)
    )
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id, over))


async def failures_since(
    session: AsyncSession, email: str, client_ip: str, since: datetime
) -> tuple[Sequence[datetime], Sequence[datetime]]:
    """The times of the failed logins since `since`: for this email, and from this client IP."""
    recent = LoginFailure.failed_at > since
    by_email = select(LoginFailure.failed_at).where(LoginFailure.email == email, recent)
    by_ip = select(LoginFailure.failed_at).where(LoginFailure.client_ip == client_ip, recent)
    return (await session.execute(by_email)).scalars().all(), (await session.execute(by_ip)).scalars().all()


async def record_failure(session: AsyncSession, email: str, client_ip: str) -> None:
    session.add(LoginFailure(email=email, client_ip=client_ip))
    await session.flush()


async def clear_failures(session: AsyncSession, email: str, before: datetime) -> None:
    """A successful login forgets the email's failures, and everyone's older than the window."""
    await session.execute(delete(LoginFailure).where((LoginFailure.email == email) | (LoginFailure.failed_at < before)))


async def database_now(session: AsyncSession) -> datetime:
    """When the transaction began."""
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    return now


async def clock_now(session: AsyncSession) -> datetime:
    """The database's clock at this statement."""
    now: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return now
