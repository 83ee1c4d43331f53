"""One OpenAPI document for the whole public API: every route in it, errors as problem+json, credentials declared."""

import re

import httpx
from gateway.openapi import PUBLIC_PATHS
from gateway.proxy.routes import ROUTES


async def test_the_document_covers_every_public_route(gateway_api: httpx.AsyncClient) -> None:
    document = (await gateway_api.get("/openapi.json")).json()
    operations = {(method.upper(), path): op for path, ops in document["paths"].items() for method, op in ops.items()}
    forwarded = {(route.method, route.path) for route in ROUTES}
    own = {
        ("POST", "/v1/auth/login"), ("POST", "/v1/auth/token"), ("POST", "/v1/auth/logout"), ("GET", "/v1/auth/me"),
        ("GET", "/v1/users"), ("POST", "/v1/users"), ("GET", "/v1/users/{user_id}"), ("PATCH", "/v1/users/{user_id}"),
        ("DELETE", "/v1/users/{user_id}"), ("GET", "/v1/api-keys"), ("POST", "/v1/api-keys"),
        ("DELETE", "/v1/api-keys/{key_id}"), ("GET", "/v1/audit"), ("GET", "/v1/dashboard"), ("GET", "/v1/stream"),
    }  # fmt: skip
    assert set(operations) == forwarded | own
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    for (method, path), operation in operations.items():
        assert operation["responses"]["default"]["content"].keys() == {"application/problem+json"}
        assert (operation.get("security") == []) == (path in PUBLIC_PATHS), (method, path)
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
    mrr = operations[("GET", "/v1/metrics/mrr")]
    assert {p["name"] for p in mrr["parameters"]} == {"from", "to", "currency"}
    assert set(mrr["responses"]["2XX"]["content"]) == {"application/json", "text/csv"}
    assert "200" not in mrr["responses"]
    assert "text/event-stream" in operations[("GET", "/v1/stream")]["responses"]["200"]["content"]
    assert "requestBody" in operations[("POST", "/v1/funnels/query")]


async def test_docs_are_served(gateway_api: httpx.AsyncClient) -> None:
    docs = await gateway_api.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
