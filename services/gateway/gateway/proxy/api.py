"""Public routes the gateway forwards, after authenticating the caller: `read` for reads, `admin` for every change
(catalog, customers, subscriptions, credits, invoices), `ingest` to send usage. Stripe's webhooks are the one
exception: Stripe cannot send our key, so they pass unauthenticated and billing checks their signature."""

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request, Response

from gateway.auth import require_scope
from gateway.config import GatewaySettings
from gateway.proxy.forward import forward


async def app_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[GatewaySettings, Depends(app_settings)]


async def client(request: Request) -> httpx.AsyncClient:
    upstream: httpx.AsyncClient = request.app.state.http
    return upstream


router = APIRouter()
ClientDep = Annotated[httpx.AsyncClient, Depends(client)]
READ = [Depends(require_scope("read"))]
ADMIN = [Depends(require_scope("admin"))]


@router.get("/v1/meters", tags=["catalog"], dependencies=READ)
@router.get("/v1/meters/{meter_id}", tags=["catalog"], dependencies=READ)
@router.get("/v1/plans", tags=["catalog"], dependencies=READ)
@router.get("/v1/plans/{key}", tags=["catalog"], dependencies=READ)
@router.get("/v1/plans/{key}/versions", tags=["catalog"], dependencies=READ)
@router.get("/v1/customers/{customer_id}/usage", tags=["usage"], dependencies=READ)
@router.get("/v1/customers", tags=["customers"], dependencies=READ)
@router.get("/v1/customers/{customer_id}", tags=["customers"], dependencies=READ)
@router.get("/v1/customers/{customer_id}/entitlements", tags=["customers"], dependencies=READ)
@router.get("/v1/customers/{customer_id}/credits", tags=["credits"], dependencies=READ)
@router.get("/v1/customers/{customer_id}/late-usage", tags=["invoices"], dependencies=READ)
@router.get("/v1/subscriptions", tags=["subscriptions"], dependencies=READ)
@router.get("/v1/subscriptions/{subscription_id}", tags=["subscriptions"], dependencies=READ)
@router.get("/v1/subscriptions/{subscription_id}/upcoming-invoice", tags=["subscriptions"], dependencies=READ)
@router.get("/v1/invoices", tags=["invoices"], dependencies=READ)
@router.get("/v1/invoices/{invoice_id}", tags=["invoices"], dependencies=READ)
@router.get("/v1/invoices/{invoice_id}/payment", tags=["payments"], dependencies=READ)
@router.get("/v1/imports/{import_id}", tags=["imports"], dependencies=READ)
async def read_billing(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    return await forward(request, http, settings.billing_url, "billing")


@router.post("/v1/meters", tags=["catalog"], dependencies=ADMIN)
@router.post("/v1/plans", tags=["catalog"], dependencies=ADMIN)
@router.post("/v1/plans/{key}/versions", tags=["catalog"], dependencies=ADMIN)
@router.post("/v1/customers", tags=["customers"], dependencies=ADMIN)
@router.patch("/v1/customers/{customer_id}", tags=["customers"], dependencies=ADMIN)
@router.post("/v1/customers/{customer_id}/credit-grants", tags=["credits"], dependencies=ADMIN)
@router.post("/v1/customers/{customer_id}/balance-adjustments", tags=["credits"], dependencies=ADMIN)
@router.post("/v1/subscriptions", tags=["subscriptions"], dependencies=ADMIN)
@router.post("/v1/subscriptions/{subscription_id}/change-plan", tags=["subscriptions"], dependencies=ADMIN)
@router.post("/v1/subscriptions/{subscription_id}/cancel", tags=["subscriptions"], dependencies=ADMIN)
@router.post("/v1/invoices/{invoice_id}/finalize", tags=["invoices"], dependencies=ADMIN)
@router.post("/v1/invoices/{invoice_id}/pay", tags=["invoices"], dependencies=ADMIN)
@router.post("/v1/invoices/{invoice_id}/void", tags=["invoices"], dependencies=ADMIN)
@router.post("/v1/invoices/{invoice_id}/mark-uncollectible", tags=["invoices"], dependencies=ADMIN)
@router.post("/v1/customers/{customer_id}/payment-method", tags=["payments"], dependencies=ADMIN)
@router.post("/v1/invoices/{invoice_id}/retry-payment", tags=["payments"], dependencies=ADMIN)
@router.post("/v1/imports/stripe", tags=["imports"], dependencies=ADMIN)
async def manage_billing(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    return await forward(request, http, settings.billing_url, "billing")


@router.post("/v1/events", tags=["usage"], dependencies=[Depends(require_scope("ingest"))])
@router.post("/v1/events/batch", tags=["usage"], dependencies=[Depends(require_scope("ingest"))])
async def to_ingest(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    return await forward(request, http, settings.ingest_url, "usage-ingest")


@router.post("/v1/webhooks/stripe", tags=["webhooks"])
async def stripe_webhook(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    """Stripe's events, to billing with the body and headers as received (Stripe-Signature signs the raw bytes).
    No API key: billing verifies the signature and answers; a billing that is down is a 503, which Stripe retries."""
    return await forward(request, http, settings.billing_url, "billing")
