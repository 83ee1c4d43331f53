from fastapi import FastAPI
from tally_runtime.lifespans import Database, database_api

from billing.catalog.api import router as meters_router
from billing.config import BillingSettings, get_settings
from billing.db import MIGRATIONS, SCHEMA
from billing.plans.api import router as plans_router
from billing.usage.api import router as usage_router


def create_app(settings: BillingSettings | None = None) -> FastAPI:
    app = database_api("Tally billing", Database(settings or get_settings(), SCHEMA, MIGRATIONS))
    app.include_router(meters_router)
    app.include_router(plans_router)
    app.include_router(usage_router)
    return app
