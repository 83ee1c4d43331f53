"""Managing users at /v1/users: admin only, emails validated and unique, passwords strong, never an admin-less
Tally."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tally_stack.testing import Infra

NewClient = Callable[[], httpx.AsyncClient]
NewUser = Callable[[str], Awaitable[Any]]
Login = Callable[[httpx.AsyncClient, Any], Awaitable[str]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fresh_email() -> str:
    return f"Person-{uuid4().hex[:10]}@Example.com"


async def test_an_admin_creates_reads_updates_and_deletes_a_user(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    admin = bearer(infra.api_key)
    email = fresh_email()
    created = await gateway_api.post(
        "/v1/users", json={"email": email, "password": "a-long-password-1", "role": "viewer"}, headers=admin
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert set(user) == {"id", "email", "role", "created_at", "updated_at"}
    assert (user["email"], user["role"]) == (email.lower(), "viewer")
    assert (await gateway_api.get(f"/v1/users/{user['id']}", headers=admin)).json() == user
    changed = await gateway_api.patch(f"/v1/users/{user['id']}", json={"role": "analyst"}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["role"] == "analyst"
    assert changed.json()["updated_at"] >= user["updated_at"]
    assert (await gateway_api.delete(f"/v1/users/{user['id']}", headers=admin)).status_code == 204
    missing = await gateway_api.get(f"/v1/users/{user['id']}", headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_a_duplicate_email_is_a_409_whatever_its_case(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    email = fresh_email()
    body = {"email": email, "password": "a-long-password-1", "role": "viewer"}
    assert (await gateway_api.post("/v1/users", json=body, headers=bearer(infra.api_key))).status_code == 201
    again = await gateway_api.post("/v1/users", json=body | {"email": email.upper()}, headers=bearer(infra.api_key))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    other = await gateway_api.post("/v1/users", json=body | {"email": fresh_email()}, headers=bearer(infra.api_key))
    clash = await gateway_api.patch(
        f"/v1/users/{other.json()['id']}", json={"email": email}, headers=bearer(infra.api_key)
    )
    assert clash.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "a-long-password-1", "role": "viewer"}, "body.email"),
        ({"email": "a@b", "password": "a-long-password-1", "role": "viewer"}, "body.email"),
        ({"email": "ann@example.com", "password": "short", "role": "viewer"}, "body.password"),
        ({"email": "ann@example.com", "password": "a-long-password-1", "role": "root"}, "body.role"),
        ({"email": "ann@example.com", "role": "viewer"}, "body.password"),
        ({"email": "ann@example.com", "password": "a-long-password-1", "role": "viewer", "id": "usr_x"}, "body.id"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    gateway_api: httpx.AsyncClient, infra: Infra, body: dict[str, Any], field: str
) -> None:
    response = await gateway_api.post("/v1/users", json=body, headers=bearer(infra.api_key))
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    assert "a-long-password-1" not in response.text  # a rejected password is never echoed


async def test_users_page_with_a_cursor(gateway_api: httpx.AsyncClient, infra: Infra, new_user: NewUser) -> None:
    made = {(await new_user("viewer")).id for _ in range(3)}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await gateway_api.get("/v1/users", params=params, headers=bearer(infra.api_key))).json()
        assert len(page["data"]) <= 2
        assert all("password" not in str(user) for user in page["data"])
        seen += [user["id"] for user in page["data"]]
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    assert seen == sorted(seen)
    assert made <= set(seen)


async def test_only_admins_manage_users(new_client: NewClient, new_user: NewUser, login: Login) -> None:
    for role in ("viewer", "analyst"):
        browser = new_client()
        csrf = await login(browser, await new_user(role))
        headers = {"X-CSRF-Token": csrf}
        body = {"email": fresh_email(), "password": "a-long-password-1", "role": "admin"}
        assert (await browser.get("/v1/users")).status_code == 403
        assert (await browser.post("/v1/users", json=body, headers=headers)).status_code == 403
        assert (await browser.delete("/v1/users/usr_x", headers=headers)).status_code == 403


async def test_a_new_password_or_role_ends_the_users_sessions(
    gateway_api: httpx.AsyncClient, infra: Infra, new_client: NewClient, new_user: NewUser, login: Login
) -> None:
    person = await new_user("analyst")
    browser = new_client()
    await login(browser, person)
    assert (await browser.get("/v1/auth/me")).status_code == 200
    update = {"password": "another-long-password"}
    assert (await gateway_api.patch(f"/v1/users/{person.id}", json=update, headers=bearer(infra.api_key))).is_success
    assert (await browser.get("/v1/auth/me")).status_code == 401
    old = await new_client().post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert old.status_code == 401
    new = await new_client().post("/v1/auth/login", json={"email": person.email, "password": update["password"]})
    assert new.status_code == 200


async def test_the_last_admin_cannot_go(new_client: NewClient, new_user: NewUser, login: Login) -> None:
    """An admin demoting or deleting every other admin, then itself: the last one stays."""
    admin = await new_user("admin")
    browser = new_client()
    headers = {"X-CSRF-Token": await login(browser, admin)}
    others: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        page = (await browser.get("/v1/users", params=params)).json()
        others += [user for user in page["data"] if user["role"] == "admin" and user["id"] != admin.id]
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    try:
        for other in others:
            demoted = await browser.patch(f"/v1/users/{other['id']}", json={"role": "viewer"}, headers=headers)
            assert demoted.status_code == 200
        refused = await browser.patch(f"/v1/users/{admin.id}", json={"role": "viewer"}, headers=headers)
        assert refused.status_code == 409
        assert (await browser.delete(f"/v1/users/{admin.id}", headers=headers)).status_code == 409
    finally:
        for other in others:
            await browser.patch(f"/v1/users/{other['id']}", json={"role": "admin"}, headers=headers)
