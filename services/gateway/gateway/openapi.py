"""The one OpenAPI document of the public API: every error is problem+json, and every operation but the public
ones takes a bearer credential or the session cookie."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

# Routes that take no credentials: how one gets them, and Stripe's webhooks (billing checks their signature).
PUBLIC_PATHS = frozenset({"/v1/auth/login", "/v1/auth/token", "/v1/webhooks/stripe"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["field", "reason"],
            },
        },
    },
    "required": ["title", "status", "detail"],
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (tk_...) or an access token (tat_...)"},
    "session": {"type": "apiKey", "in": "cookie", "name": "tally_session", "description": "From POST /v1/auth/login"},
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for generated in ("HTTPValidationError", "ValidationError"):
        schemas.pop(generated, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = [{"bearer": []}, {"session": []}]
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "2XX" in responses:  # a forwarded route: FastAPI's JSON-only 200 would hide its CSV
                responses.pop("200", None)
            if "422" in responses:
                responses["422"] = _problem("The request is invalid: `errors` names each field and the reason")
            responses["default"] = _problem("Any error: 401, 403, 404, 409, 429, 503, ...")
            if path in PUBLIC_PATHS:
                operation["security"] = []
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
