"""Start-up and shutdown shared by services that own a Postgres schema."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tally_runtime.db import create_engine, migrate, ping, session_factory
from tally_runtime.http import Lifespan, ReadinessCheck, create_api
from tally_runtime.settings import DatabaseSettings


class Database:
    """The process's engine and session factory, created after the schema is migrated."""

    def __init__(
        self,
        settings: DatabaseSettings,
        schema: str,
        migrations: Path,
        server_settings: Mapping[str, str] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.migrations = migrations
        self.server_settings = server_settings
        self.read_only = read_only
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    async def start(self) -> None:
        await migrate(self.migrations, self.settings.database_url)
        self._engine = create_engine(
            self.settings.database_url,
            self.schema,
            self.settings.db_pool_size,
            self.server_settings,
            read_only=self.read_only,
        )
        self._sessions = session_factory(self._engine)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the database has not been started")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database has not been started")
        return self._sessions

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> None:
        await ping(self.engine)


def database_lifespan(database: Database) -> Lifespan:
    """Migrate, then expose `app.state.sessions` for the request-scoped session dependency."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.start()
        app.state.sessions = database.sessions
        try:
            yield
        finally:
            await database.stop()

    return lifespan


def database_readiness(database: Database) -> Mapping[str, ReadinessCheck]:
    return {"database": database.ping}


def database_api(title: str, database: Database) -> FastAPI:
    """The api app of a service whose only start-up dependency is its own schema."""
    app = create_api(title, lifespan=database_lifespan(database), readiness=lambda _: database_readiness(database))
    app.state.settings = database.settings
    return app
