"""Every door locked: each route refuses a caller without credentials, and each role and key scope gets exactly
its permissions (a forwarded call that passes meets the dead upstream: 503)."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from gateway.access.permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS
from gateway.openapi import PUBLIC_PATHS
from gateway.proxy.routes import ROUTES
from tally_stack.testing import Infra

NewClient = Callable[[], httpx.AsyncClient]
NewUser = Callable[[str], Awaitable[Any]]
Login = Callable[[httpx.AsyncClient, Any], Awaitable[str]]
# Routes outside /v1 that anyone may call: probes, metrics, the API's own description, the web UI's pages and assets
# (they hold no data: the page calls /v1 like any client).
OPEN = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/{path:path}",
    "/assets",
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def concrete(path: str) -> str:
    return re.sub(r"{\w+}", "x_1", path)


async def test_every_route_without_credentials_is_a_401(gateway_fastapi: FastAPI, new_client: NewClient) -> None:
    every = sorted(
        (method, context.path or "")
        for context in iter_route_contexts(gateway_fastapi.routes)
        for method in getattr(context.original_route, "methods", None) or ()
        if method != "HEAD"
    )
    assert len(every) > 60
    outside = {path for _, path in every if not path.startswith("/v1/")}
    assert outside <= OPEN, f"a route outside /v1 that is not known to be open: {outside - OPEN}"
    anonymous = new_client()
    for method, path in every:
        if path in PUBLIC_PATHS or not path.startswith("/v1/"):
            continue
        response = await anonymous.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="tally"'
        bad = await anonymous.request(method, concrete(path), json={}, headers=bearer("tk_live_" + "x" * 40))
        assert bad.status_code == 401, (method, path)


def expected(permission: str | None, granted: frozenset[str], upstream_status: int) -> int:
    return upstream_status if permission is None or permission in granted else 403


# One route of each class: its permission, and what a caller allowed to call it gets.
OWN_ROUTES = [
    ("GET", "/v1/users", "admin", 200),
    ("POST", "/v1/users", "admin", 422),
    ("DELETE", "/v1/users/usr_nobody", "admin", 404),
    ("GET", "/v1/api-keys", "admin", 200),
    ("GET", "/v1/audit", "admin", 200),
    ("GET", "/v1/dashboard", "read", 200),
]
FORWARDED = [(route.method, concrete(route.path), route.permission, 503) for route in ROUTES]


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
async def test_each_role_gets_exactly_its_permissions(
    role: str, new_client: NewClient, new_user: NewUser, login: Login
) -> None:
    browser = new_client()
    csrf = await login(browser, await new_user(role))
    granted = ROLE_PERMISSIONS[role]
    for method, path, permission, allowed in OWN_ROUTES + FORWARDED:
        response = await browser.request(method, path, json={}, headers={"X-CSRF-Token": csrf})
        assert response.status_code == expected(permission, granted, allowed), (role, method, path, response.text)


@pytest.mark.parametrize("scope", sorted(SCOPE_PERMISSIONS))
async def test_each_key_scope_gets_exactly_its_permissions(
    scope: str, gateway_api: httpx.AsyncClient, infra: Infra
) -> None:
    issued = await gateway_api.post(
        "/v1/api-keys", json={"name": scope, "scopes": [scope]}, headers=bearer(infra.api_key)
    )
    key = issued.json()["key"]
    granted = SCOPE_PERMISSIONS[scope]
    for method, path, permission, allowed in OWN_ROUTES + FORWARDED:
        response = await gateway_api.request(method, path, json={}, headers=bearer(key))
        assert response.status_code == expected(permission, granted, allowed), (scope, method, path, response.text)


async def test_a_viewer_cannot_write_and_an_ingest_key_cannot_read(
    new_client: NewClient, new_user: NewUser, login: Login, gateway_api: httpx.AsyncClient, infra: Infra
) -> None:
    viewer = new_client()
    csrf = await login(viewer, await new_user("viewer"))
    refused = await viewer.post("/v1/customers", json={"external_id": "x"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    issued = await gateway_api.post(
        "/v1/api-keys", json={"name": "i", "scopes": ["ingest"]}, headers=bearer(infra.api_key)
    )
    for path in ("/v1/customers", "/v1/metrics/summary", "/v1/dashboard", "/v1/stream"):
        assert (await gateway_api.get(path, headers=bearer(issued.json()["key"]))).status_code == 403
