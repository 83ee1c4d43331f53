"""Issuing, listing and revoking API keys on the real Postgres; each change announced on the real broker."""

import json
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from contracts.api_keys import ApiKeyIssuedEvent, ApiKeyRevokedEvent
from contracts.topics import API_KEYS
from tally_runtime.api_keys import hash_key
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra, consume_all, eventually


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def issue(api: httpx.AsyncClient, infra: Infra, *scopes: str, name: str | None = None) -> dict[str, Any]:
    body = {"name": name or f"test {uuid4().hex[:8]}", "scopes": list(scopes)}
    response = await api.post("/v1/api-keys", json=body, headers=bearer(infra.api_key))
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def all_keys(api: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    """Every key, page by page (small pages, to walk the cursor)."""
    found: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 50}
    while True:
        response = await api.get("/v1/api-keys", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["data"]
        if page["next_cursor"] is None:
            return found
        params["after"] = page["next_cursor"]


async def test_an_issued_key_is_shown_once_and_works(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    issued = await issue(gateway_api, infra, "admin", "read", name="  ops console  ")
    assert set(issued) == {"id", "name", "scopes", "key", "rate_limit_per_s", "created_at"}
    assert issued["id"].startswith("key_")
    assert (issued["name"], issued["scopes"]) == ("ops console", ["read", "admin"])
    assert issued["key"].startswith("tk_live_")
    assert len(issued["key"]) >= len("tk_live_") + 32
    listed = await all_keys(gateway_api, issued["key"])  # the new admin key manages keys itself
    [mine] = [key for key in listed if key["id"] == issued["id"]]
    assert mine == {k: issued[k] for k in ("id", "name", "scopes", "rate_limit_per_s", "created_at")} | {
        "revoked_at": None
    }


async def test_only_the_hash_is_stored(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    issued = await issue(gateway_api, infra, "ingest")
    connection = await asyncpg.connect(libpq_url(infra.database_urls["gateway"]))
    try:
        row = await connection.fetchrow("SELECT * FROM gateway.api_keys WHERE id = $1", issued["id"])
    finally:
        await connection.close()
    assert row is not None
    assert issued["key"] not in json.dumps(dict(row), default=str)
    assert (row["hash"], row["hash_algorithm"]) == (hash_key(issued["key"]), "sha256")


async def test_lists_page_with_a_cursor_and_never_show_a_secret(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    issued = [await issue(gateway_api, infra, "read") for _ in range(3)]
    pages = []
    params: dict[str, str | int] = {"limit": 1}
    while True:
        response = await gateway_api.get("/v1/api-keys", params=params, headers=bearer(infra.api_key))
        page = response.json()
        pages.append(page)
        assert len(page["data"]) <= 1
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    ids = [key["id"] for page in pages for key in page["data"]]
    assert ids == sorted(ids)
    assert {key["id"] for key in issued} <= set(ids)
    text = json.dumps(pages)
    assert all(key["key"] not in text for key in issued)
    assert all(
        set(key) == {"id", "name", "scopes", "rate_limit_per_s", "created_at", "revoked_at"}
        for page in pages
        for key in page["data"]
    )


async def test_revoking_is_immediate_and_idempotent(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    issued = await issue(gateway_api, infra, "admin")
    assert (await gateway_api.get("/v1/api-keys", headers=bearer(issued["key"]))).status_code == 200
    for _ in range(2):
        response = await gateway_api.delete(f"/v1/api-keys/{issued['id']}", headers=bearer(infra.api_key))
        assert response.status_code == 204
        assert response.content == b""
    refused = await gateway_api.get("/v1/api-keys", headers=bearer(issued["key"]))
    assert refused.status_code == 401
    [mine] = [key for key in await all_keys(gateway_api, infra.api_key) if key["id"] == issued["id"]]
    assert mine["revoked_at"] is not None
    unknown = await gateway_api.delete("/v1/api-keys/key_nope", headers=bearer(infra.api_key))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_missing_or_bad_keys_get_401_with_a_challenge(gateway_api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("tk_live_" + "x" * 40), bearer("not-a-tally-key")):
        response = await gateway_api.get("/v1/api-keys", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="tally"'
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "case",
    [
        ("read", "POST", "/v1/api-keys", 403),
        ("read", "GET", "/v1/api-keys", 403),
        ("ingest", "DELETE", "/v1/api-keys/key_x", 403),
        ("ingest", "GET", "/v1/meters", 403),
        ("read", "POST", "/v1/meters", 403),
        ("read", "POST", "/v1/events", 403),
        ("admin", "POST", "/v1/events/batch", 403),
        # Allowed: authentication passes and the forward meets the dead upstream.
        ("read", "GET", "/v1/meters", 503),
        ("read", "GET", "/v1/meters/mtr_x", 503),
        ("read", "GET", "/v1/customers/acme/usage", 503),
        ("admin", "POST", "/v1/meters", 503),
        ("ingest", "POST", "/v1/events", 503),
        ("ingest", "POST", "/v1/events/batch", 503),
    ],
)
async def test_each_route_needs_its_scope(
    gateway_api: httpx.AsyncClient, infra: Infra, case: tuple[str, str, str, int]
) -> None:
    scope, method, path, status = case
    key = (await issue(gateway_api, infra, scope))["key"]
    response = await gateway_api.request(method, path, json={"name": "x", "scopes": ["read"]}, headers=bearer(key))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["write"]}, "body.scopes.0"),
        ({"name": "", "scopes": ["read"]}, "body.name"),
        ({"name": "   ", "scopes": ["read"]}, "body.name"),
        ({"name": "x", "scopes": []}, "body.scopes"),
        ({"scopes": ["read"]}, "body.name"),
        ({"name": "x", "scopes": ["read"], "key": "tk_live_chosen"}, "body.key"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    gateway_api: httpx.AsyncClient, infra: Infra, body: dict[str, Any], field: str
) -> None:
    response = await gateway_api.post("/v1/api-keys", json=body, headers=bearer(infra.api_key))
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}


@pytest.mark.usefixtures("gateway_worker")
async def test_issue_and_revoke_are_announced_with_the_hash_only(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    issued = await issue(gateway_api, infra, "ingest", "read")
    assert (await gateway_api.delete(f"/v1/api-keys/{issued['id']}", headers=bearer(infra.api_key))).status_code == 204
    assert (await gateway_api.delete(f"/v1/api-keys/{issued['id']}", headers=bearer(infra.api_key))).status_code == 204

    async def both_announced() -> list[bytes]:
        records = await consume_all(infra.kafka_bootstrap, API_KEYS)
        ours = [record.value for record in records if record.key == issued["id"].encode()]
        assert len(ours) == 2
        return ours

    first, second = await eventually(both_announced)
    assert issued["key"].encode() not in first + second
    announced = ApiKeyIssuedEvent.model_validate_json(first)
    assert announced.data.hash == hash_key(issued["key"])
    assert (announced.data.scopes, announced.data.hash_algorithm) == (["ingest", "read"], "sha256")
    assert (announced.subject, announced.source) == (issued["id"], "tally/gateway")
    revoked = ApiKeyRevokedEvent.model_validate_json(second)
    assert revoked.data.key_id == issued["id"]
    assert revoked.data.revoked_at >= announced.data.issued_at
