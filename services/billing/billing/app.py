from fastapi import FastAPI
from tally_runtime.lifespans import Database, database_api

from billing.catalog.api import router as meters_router
from billing.config import BillingSettings, get_settings
from billing.credits.api import router as credits_router
from billing.customers.api import router as customers_router
from billing.db import MIGRATIONS, SCHEMA
from billing.entitlements.api import router as entitlements_router
from billing.imports.api import router as imports_router
from billing.invoices.api import late_router as late_usage_router
from billing.invoices.api import router as invoices_router
from billing.payment.api import router as payments_router
from billing.payment.setup import stripe_api
from billing.plans.api import router as plans_router
from billing.subscriptions.api import router as subscriptions_router
from billing.usage.api import router as usage_router


def create_app(settings: BillingSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = database_api("Tally billing", Database(settings, SCHEMA, MIGRATIONS))
    app.state.billing_settings = settings
    app.state.stripe = stripe_api(settings)
    app.include_router(meters_router)
    app.include_router(plans_router)
    app.include_router(usage_router)
    app.include_router(credits_router)
    app.include_router(customers_router)
    app.include_router(entitlements_router)
    app.include_router(subscriptions_router)
    app.include_router(invoices_router)
    app.include_router(late_usage_router)
    app.include_router(payments_router)
    app.include_router(imports_router)
    return app
