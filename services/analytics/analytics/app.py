from fastapi import FastAPI
from tally_runtime.lifespans import Database, database_api

from analytics.attribution.api import router as attribution_router
from analytics.config import AnalyticsSettings, get_settings
from analytics.db import MIGRATIONS, SCHEMA
from analytics.funnels.api import router as funnels_router
from analytics.metrics.api import router as metrics_router
from analytics.segments.api import router as segments_router
from analytics.usage.api import router as usage_router


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = database_api("Tally analytics", Database(settings, SCHEMA, MIGRATIONS))
    app.include_router(metrics_router)
    app.include_router(usage_router)
    app.include_router(funnels_router)
    app.include_router(segments_router)
    app.include_router(attribution_router)
    return app
