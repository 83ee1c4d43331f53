"""SQL and script injection in text fields, through the real gateway into the real services: kept as the text it
is, never run, and the tables it names are still there."""

from uuid import uuid4

import httpx
import pytest
from tally_stack.system import System

pytestmark = pytest.mark.e2e
PAYLOADS = (
    "'; DROP TABLE customers; --",
    "x' OR '1'='1",
    '"); DELETE FROM gateway.users; --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
)


async def test_injection_in_every_text_field_is_kept_as_text(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(base_url=system.url("gateway"), headers=headers, timeout=30) as http:
        for n, payload in enumerate(PAYLOADS):
            external_id = f"inj-{uuid4().hex[:6]}-{n}"
            body = {"external_id": external_id, "name": payload, "currency": "USD", "metadata": {"note": payload}}
            created = await http.post("/v1/customers", json=body)
            assert created.status_code == 201, created.text
            read = (await http.get(f"/v1/customers/{external_id}")).json()
            assert (read["name"], read["metadata"]["note"]) == (payload, payload)

            found = (await http.get("/v1/customers", params={"search": payload, "limit": 200})).json()["data"]
            assert all(payload in (c["name"], c.get("email"), c.get("external_id")) for c in found)
            assert external_id in {c["external_id"] for c in found}

            key = await http.post("/v1/api-keys", json={"name": payload, "scopes": ["read"]})
            assert key.status_code == 201, key.text
            assert key.json()["name"] == payload

            user = await http.post(
                "/v1/users", json={"email": payload, "password": "a-long-password-1", "role": "viewer"}
            )
            assert user.status_code == 422 and user.json()["errors"][0]["field"].endswith("email")

        # The tables the payloads name are all still there, and whole.
        assert (await http.get("/v1/customers", params={"limit": 1})).status_code == 200
        assert (await http.get("/v1/users")).status_code == 200
        unknown = await http.get("/v1/customers", params={"search": "x' OR '1'='1' --", "limit": 200})
        assert all("'1'='1" in c["name"] for c in unknown.json()["data"])
