from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from tally_runtime.outbox import outbox_table

SCHEMA = "gateway"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
metadata = MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata


def import_models() -> None:
    """Register every ORM model on `metadata` (alembic autogenerate and tests need them all)."""
    from gateway.api_keys import models as api_key_models  # noqa: F401
    from gateway.audit import models as audit_models  # noqa: F401
    from gateway.sessions import models as session_models  # noqa: F401
    from gateway.users import models as user_models  # noqa: F401


def sessions_of(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (the request commits, not services)."""
    async with sessions_of(request)() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
