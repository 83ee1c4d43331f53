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
# The API only reads (its engine is read-only: no transactions), few statements that aggregate whole projections
# and depend on their parameters (date ranges, id arrays):
# - planned for the values at hand every time: a generic plan, which a prepared statement gets from its sixth run,
#   guesses one row for a range and once nested-looped 268 x 503 rows where a hash join takes a millisecond;
# - no JIT: compiling costs more than it saves on projections of this size;
# - room to hash-aggregate in memory rather than sort text on disk.
READ_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off", "work_mem": "64MB"}


class Base(DeclarativeBase):
    metadata = metadata


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session (on the API's read-only engine, each statement commits on its own)."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """For routes that may answer without the database (kept answers): they open a session only when they need one."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


Sessions = async_sessionmaker[AsyncSession]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
