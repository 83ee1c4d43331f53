"""Rate limits per credential (429 with Retry-After), the bootstrap key switched off, request ids, the audit log."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import httpx
from tally_stack.testing import Infra

NewClient = Callable[[], httpx.AsyncClient]
NewUser = Callable[[str], Awaitable[Any]]
Login = Callable[[httpx.AsyncClient, Any], Awaitable[str]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def issue(api: httpx.AsyncClient, infra: Infra, **body: Any) -> dict[str, Any]:
    response = await api.post(
        "/v1/api-keys", json={"name": "limits", "scopes": ["admin"]} | body, headers=bearer(infra.api_key)
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def test_a_key_over_its_rate_gets_429_with_retry_after(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    slow = await issue(gateway_api, infra, rate_limit_per_s=0.5)  # a bucket of 1 request, refilled every 2 s
    assert slow["rate_limit_per_s"] == 0.5
    assert (await gateway_api.get("/v1/api-keys", headers=bearer(slow["key"]))).status_code == 200
    refused = await gateway_api.get("/v1/api-keys", headers=bearer(slow["key"]))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    other = await issue(gateway_api, infra)  # another key has its own bucket, at the default rate
    assert (await gateway_api.get("/v1/api-keys", headers=bearer(other["key"]))).status_code == 200


async def test_users_are_limited_per_user(
    own_gateway: Callable[..., Any], new_user: NewUser, login: Login, new_client: NewClient
) -> None:
    person = await new_user("viewer")
    async with own_gateway(rate_limit_per_s=1.0, rate_limit_burst_s=3.0) as gateway:
        token = await gateway.post("/v1/auth/token", json={"email": person.email, "password": person.password})
        headers = bearer(token.json()["access_token"])
        statuses = [(await gateway.get("/v1/auth/me", headers=headers)).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]


async def test_the_bootstrap_key_can_be_switched_off(
    own_gateway: Callable[..., Any], gateway_api: httpx.AsyncClient, infra: Infra
) -> None:
    issued = await issue(gateway_api, infra)
    async with own_gateway(bootstrap_key_enabled=False) as gateway:
        refused = await gateway.get("/v1/api-keys", headers=bearer(infra.api_key))
        assert refused.status_code == 401
        assert (await gateway.get("/v1/api-keys", headers=bearer(issued["key"]))).status_code == 200
    assert (await gateway_api.get("/v1/api-keys", headers=bearer(infra.api_key))).status_code == 200


async def test_request_ids_are_kept_or_made(gateway_api: httpx.AsyncClient) -> None:
    kept = await gateway_api.get("/healthz", headers={"X-Request-Id": "req-abc.123"})
    assert kept.headers["x-request-id"] == "req-abc.123"
    made = await gateway_api.get("/v1/users")
    assert len(made.headers["x-request-id"]) == 32
    for odd in ("a b<script>", "x" * 200):
        replaced = await gateway_api.get("/healthz", headers={"X-Request-Id": odd})
        assert len(replaced.headers["x-request-id"]) == 32


async def test_every_write_is_audited_without_bodies(
    gateway_api: httpx.AsyncClient, infra: Infra, new_client: NewClient, new_user: NewUser, login: Login
) -> None:
    admin = await new_user("admin")
    browser = new_client()
    csrf = await login(browser, admin)
    marker = uuid4().hex
    secret_password = f"secret-{marker}"
    created = await browser.post(
        "/v1/users",
        json={"email": f"audited-{marker}@example.com", "password": secret_password, "role": "viewer"},
        headers={"X-CSRF-Token": csrf, "X-Request-Id": f"create-{marker}"},
    )
    assert created.status_code == 201
    forbidden = await browser.post("/v1/users", json={}, headers={"X-Request-Id": f"nocsrf-{marker}"})
    assert forbidden.status_code == 403
    key = await gateway_api.delete(
        "/v1/api-keys/key_nope", headers=bearer(infra.api_key) | {"X-Request-Id": f"k-{marker}"}
    )
    assert key.status_code == 404
    anonymous = await new_client().post("/v1/meters", json={}, headers={"X-Request-Id": f"anon-{marker}"})
    assert anonymous.status_code == 401
    await browser.get("/v1/users", headers={"X-Request-Id": f"read-{marker}"})

    page = await browser.get("/v1/audit", params={"limit": 200})
    assert page.status_code == 200
    entries = {entry["request_id"]: entry for entry in page.json()["data"] if marker in entry["request_id"]}
    assert set(entries) == {f"create-{marker}", f"nocsrf-{marker}", f"k-{marker}", f"anon-{marker}"}  # no reads
    create = entries[f"create-{marker}"]
    assert (create["actor_kind"], create["actor_id"], create["method"], create["path"], create["status"]) == (
        "user",
        admin.id,
        "POST",
        "/v1/users",
        201,
    )
    assert (entries[f"nocsrf-{marker}"]["actor_id"], entries[f"nocsrf-{marker}"]["status"]) == (admin.id, 403)
    assert entries[f"k-{marker}"]["actor_kind"] == "bootstrap"
    assert (entries[f"anon-{marker}"]["actor_kind"], entries[f"anon-{marker}"]["status"]) == (None, 401)
    ids = [entry["id"] for entry in page.json()["data"]]
    assert ids == sorted(ids, reverse=True)
    assert secret_password not in page.text
    logins = [entry for entry in page.json()["data"] if entry["path"] == "/v1/auth/login"]
    assert any((entry["actor_id"], entry["status"]) == (admin.id, 200) for entry in logins)


async def test_the_audit_log_is_for_admins(new_client: NewClient, new_user: NewUser, login: Login) -> None:
    browser = new_client()
    await login(browser, await new_user("analyst"))
    assert (await browser.get("/v1/audit")).status_code == 403
