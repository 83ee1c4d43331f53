"""Logging in and out, sessions and their cookie, tokens, CSRF, lockout: on the real Postgres."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import asyncpg
import httpx
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra

NewClient = Callable[[], httpx.AsyncClient]
NewUser = Callable[[str], Awaitable[Any]]
Login = Callable[[httpx.AsyncClient, Any], Awaitable[str]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def session_cookie(response: httpx.Response) -> Any:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie["tally_session"]


async def test_the_first_admin_logs_in_and_sees_itself(new_client: NewClient, infra: Infra) -> None:
    browser = new_client()
    response = await browser.post(
        "/v1/auth/login", json={"email": infra.admin_email.upper(), "password": infra.admin_password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "csrf_token"}
    assert body["user"]["email"] == infra.admin_email.lower()
    assert body["user"]["role"] == "admin"
    assert body["user"]["id"].startswith("usr_")
    assert len(body["csrf_token"]) >= 32
    me = await browser.get("/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == body


async def test_the_session_cookie_is_httponly_strict_and_secure_on_https(
    new_client: NewClient, new_user: NewUser
) -> None:
    person = await new_user("viewer")
    credentials = {"email": person.email, "password": person.password}
    plain = await new_client().post("/v1/auth/login", json=credentials)
    cookie = session_cookie(plain)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) > 0
    secure = new_client()
    secure.base_url = httpx.URL("https://gateway")
    assert session_cookie(await secure.post("/v1/auth/login", json=credentials))["secure"] is True


async def test_logout_ends_the_session_and_clears_the_cookie(
    new_client: NewClient, new_user: NewUser, login: Login
) -> None:
    browser = new_client()
    csrf = await login(browser, await new_user("analyst"))
    stolen = browser.cookies["tally_session"]
    out = await browser.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert 'tally_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert (await browser.get("/v1/auth/me")).status_code == 401
    replayed = new_client()
    replayed.cookies.set("tally_session", stolen)
    assert (await replayed.get("/v1/auth/me")).status_code == 401


async def test_session_fixation_is_impossible(new_client: NewClient, new_user: NewUser) -> None:
    person = await new_user("viewer")
    browser = new_client()
    browser.cookies.set("tally_session", "chosen-by-an-attacker-0123456789")
    response = await browser.post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert response.status_code == 200
    issued = session_cookie(response).value
    assert issued != "chosen-by-an-attacker-0123456789"
    attacker = new_client()
    attacker.cookies.set("tally_session", "chosen-by-an-attacker-0123456789")
    assert (await attacker.get("/v1/auth/me")).status_code == 401
    again = await browser.post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert session_cookie(again).value != issued  # a new id at every login; the old one is over
    old = new_client()
    old.cookies.set("tally_session", issued)
    assert (await old.get("/v1/auth/me")).status_code == 401


async def test_sessions_are_stored_hashed(new_client: NewClient, new_user: NewUser, infra: Infra) -> None:
    person = await new_user("viewer")
    browser = new_client()
    await browser.post("/v1/auth/login", json={"email": person.email, "password": person.password})
    secret = browser.cookies["tally_session"]
    connection = await asyncpg.connect(libpq_url(infra.database_urls["gateway"]))
    try:
        rows = await connection.fetch("SELECT * FROM gateway.sessions WHERE user_id = $1", person.id)
        users = await connection.fetch("SELECT password_hash FROM gateway.users WHERE id = $1", person.id)
    finally:
        await connection.close()
    assert len(rows) == 1
    assert secret not in str([dict(row) for row in rows])
    assert users[0]["password_hash"].startswith("$argon2id$")


async def test_cookie_writes_need_the_csrf_token(new_client: NewClient, new_user: NewUser, login: Login) -> None:
    browser = new_client()
    csrf = await login(browser, await new_user("admin"))
    body = {"name": "csrf test", "scopes": ["read"]}
    for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
        refused = await browser.post("/v1/api-keys", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "CSRF" in refused.json()["detail"]
    assert (await browser.post("/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf})).status_code == 201
    assert (await browser.get("/v1/api-keys")).status_code == 200  # reads need no token


async def test_a_bearer_token_works_without_cookie_or_csrf(new_client: NewClient, new_user: NewUser) -> None:
    person = await new_user("admin")
    script = new_client()
    response = await script.post("/v1/auth/token", json={"email": person.email, "password": person.password})
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["access_token"].startswith("tat_")
    assert token["expires_in"] > 0
    assert "set-cookie" not in response.headers
    created = await script.post(
        "/v1/api-keys", json={"name": "by token", "scopes": ["read"]}, headers=bearer(token["access_token"])
    )
    assert created.status_code == 201
    me = (await script.get("/v1/auth/me", headers=bearer(token["access_token"]))).json()
    assert me["user"]["id"] == person.id
    assert (await script.post("/v1/auth/logout", headers=bearer(token["access_token"]))).status_code == 204
    assert (await script.get("/v1/auth/me", headers=bearer(token["access_token"]))).status_code == 401


async def test_wrong_passwords_and_unknown_emails_are_the_same_401(new_client: NewClient, new_user: NewUser) -> None:
    person = await new_user("viewer")
    wrong = await new_client().post("/v1/auth/login", json={"email": person.email, "password": "not-the-password"})
    unknown = await new_client().post(
        "/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1234"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_five_failures_lock_the_email_out_with_retry_after(new_client: NewClient, new_user: NewUser) -> None:
    person = await new_user("viewer")
    for _ in range(5):
        bad = await new_client().post("/v1/auth/login", json={"email": person.email, "password": "wrong-password"})
        assert bad.status_code == 401
    right = {"email": person.email, "password": person.password}
    locked = await new_client().post("/v1/auth/login", json=right)  # even the right password, from anywhere
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert locked.headers["content-type"] == "application/problem+json"
    assert (await new_client().post("/v1/auth/token", json=right)).status_code == 429


async def test_five_failures_lock_the_client_address_out(new_client: NewClient, new_user: NewUser) -> None:
    person = await new_user("viewer")
    attacker = new_client()
    for n in range(5):
        guess = {"email": f"guess-{n}@example.com", "password": "wrong-password"}
        assert (await attacker.post("/v1/auth/login", json=guess)).status_code == 401
    blocked = await attacker.post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    elsewhere = await new_client().post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert elsewhere.status_code == 200


async def test_sessions_end_when_idle_and_tokens_when_expired(own_gateway: Any, new_user: NewUser) -> None:
    person = await new_user("viewer")
    credentials = {"email": person.email, "password": person.password}
    async with own_gateway(session_idle_s=4, token_ttl_s=2) as gateway:
        await gateway.post("/v1/auth/login", json=credentials)
        token = (await gateway.post("/v1/auth/token", json=credentials)).json()["access_token"]
        for _ in range(5):  # in use every second (3 s to spare on a slow machine): alive past its idle timeout
            await asyncio.sleep(1)
            assert (await gateway.get("/v1/auth/me")).status_code == 200
        assert (await gateway.get("/v1/auth/me", headers=bearer(token))).status_code == 401  # 5 s > its 2 s
        await asyncio.sleep(4.5)
        assert (await gateway.get("/v1/auth/me")).status_code == 401


async def test_a_session_ends_at_its_expiry_even_in_use(own_gateway: Any, new_user: NewUser) -> None:
    """Used every 0.3 s, the session still ends, and not before its time (measured from before the login, so a
    slow machine cannot make the test fail on time; less one second, since the client expires the cookie from its
    whole-second Max-Age)."""
    person = await new_user("viewer")
    ttl = 3
    async with own_gateway(session_ttl_s=ttl) as gateway:
        started = time.monotonic()
        await gateway.post("/v1/auth/login", json={"email": person.email, "password": person.password})
        answered_in_use = 0
        while (status := (await gateway.get("/v1/auth/me")).status_code) == 200:
            answered_in_use += 1
            assert time.monotonic() - started < ttl + 30, "the session never ended"
            await asyncio.sleep(0.3)
        assert status == 401 and answered_in_use >= 1
        assert time.monotonic() - started >= ttl - 1
