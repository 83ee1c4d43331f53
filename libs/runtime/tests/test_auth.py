"""Bearer keys and scopes, on a tiny app (no broker, no database)."""

import hashlib
import string
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from pydantic import SecretStr
from tally_runtime.api_keys import KEY_PREFIX, SECRET_LENGTH, ApiKeyGrant, Caller, hash_key, new_secret
from tally_runtime.auth import authorize
from tally_runtime.problems import install_problem_handlers

BOOTSTRAP = "bootstrap-key-0123456789"
READER = new_secret()


def app_with(grants: dict[str, ApiKeyGrant], lookups: list[str]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    async def find(digest: str) -> ApiKeyGrant | None:
        lookups.append(digest)
        return grants.get(digest)

    async def reader(request: Request) -> Caller:
        return await authorize(request, "read", SecretStr(BOOTSTRAP), find)

    @app.get("/read")
    async def read(caller: Annotated[Caller, Depends(reader)]) -> dict[str, str | None]:
        return {"key_id": caller.key_id}

    return app


@pytest.fixture
def lookups() -> list[str]:
    return []


@pytest.fixture
async def client(lookups: list[str]) -> httpx.AsyncClient:
    grants = {
        hash_key(READER): ApiKeyGrant("key_reader", frozenset({"read"}), hash_key(READER)),
        hash_key("tk_live_writer"): ApiKeyGrant("key_writer", frozenset({"ingest"}), hash_key("tk_live_writer")),
    }
    transport = httpx.ASGITransport(app=app_with(grants, lookups))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_secrets_are_long_random_base62_after_the_prefix() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert secret.startswith(KEY_PREFIX)
        body = secret.removeprefix(KEY_PREFIX)
        assert len(body) == SECRET_LENGTH >= 32
        assert set(body) <= set(string.ascii_letters + string.digits)


def test_the_hash_is_hex_sha256_of_the_whole_key() -> None:
    assert hash_key("tk_live_abc") == hashlib.sha256(b"tk_live_abc").hexdigest()


async def test_the_bootstrap_key_may_do_everything(client: httpx.AsyncClient, lookups: list[str]) -> None:
    response = await client.get("/read", headers=bearer(BOOTSTRAP))
    assert response.json() == {"key_id": None}
    assert lookups == []


async def test_an_issued_key_with_the_scope_passes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/read", headers=bearer(READER))).json() == {"key_id": "key_reader"}


async def test_a_key_without_the_scope_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/read", headers=bearer("tk_live_writer"))
    assert response.status_code == 403
    assert "'read'" in response.json()["detail"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer  ", "Basic abc", f"Bearer {new_secret()}", "Bearer other"])
async def test_missing_or_unknown_keys_are_401_with_a_challenge(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/read", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tally"'
    assert response.headers["content-type"] == "application/problem+json"


async def test_tokens_that_are_not_tally_keys_are_not_looked_up(client: httpx.AsyncClient, lookups: list[str]) -> None:
    await client.get("/read", headers=bearer("not-a-key"))
    assert lookups == []
    await client.get("/read", headers=bearer(READER))
    assert lookups == [hash_key(READER)]
