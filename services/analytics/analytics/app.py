from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from tally_runtime.http import create_api
from tally_runtime.lifespans import Database, database_lifespan, database_readiness

from analytics.answers.cache import AnswerCache
from analytics.answers.repository import versions_reader
from analytics.attribution.api import router as attribution_router
from analytics.config import AnalyticsSettings, get_settings
from analytics.db import MIGRATIONS, READ_SETTINGS, SCHEMA
from analytics.funnels.api import router as funnels_router
from analytics.metrics.api import router as metrics_router
from analytics.segments.api import router as segments_router
from analytics.usage.api import router as usage_router


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS, READ_SETTINGS, read_only=True)
    with_database = database_lifespan(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with with_database(app), versions_reader(settings.database_url, SCHEMA) as versions:
            app.state.answers = AnswerCache(settings.answer_cache_bytes, versions)
            yield

    app = create_api("Tally analytics", lifespan=lifespan, readiness=lambda _: database_readiness(database))
    app.state.settings = settings
    app.include_router(metrics_router)
    app.include_router(usage_router)
    app.include_router(funnels_router)
    app.include_router(segments_router)
    app.include_router(attribution_router)
    return app
