"""Public routes the gateway forwards, after authenticating the caller."""

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request, Response
from tally_runtime.auth import require_bootstrap_key

from gateway.config import GatewaySettings
from gateway.proxy.forward import forward


def app_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[GatewaySettings, Depends(app_settings)]


def client(request: Request) -> httpx.AsyncClient:
    upstream: httpx.AsyncClient = request.app.state.http
    return upstream


router = APIRouter(dependencies=[Depends(require_bootstrap_key)])
ClientDep = Annotated[httpx.AsyncClient, Depends(client)]


@router.api_route("/v1/meters", methods=["GET", "POST"], tags=["catalog"])
@router.api_route("/v1/meters/{meter_id}", methods=["GET"], tags=["catalog"])
@router.get("/v1/customers/{customer_id}/usage", tags=["usage"])
async def to_billing(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    return await forward(request, http, settings.billing_url, "billing")


@router.post("/v1/events", tags=["usage"])
@router.post("/v1/events/batch", tags=["usage"])
async def to_ingest(request: Request, http: ClientDep, settings: SettingsDep) -> Response:
    return await forward(request, http, settings.ingest_url, "usage-ingest")
