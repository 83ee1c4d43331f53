from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

SCHEMA = "analytics"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One read-only-by-convention transaction per request."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """For routes that may answer without the database (kept answers): they open a session only when they need one."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
