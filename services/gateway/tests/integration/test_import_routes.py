"""The Stripe import's routes: starting one takes the admin scope (its body carries a Stripe key), reading its
progress the read scope; both are forwarded to billing."""

import httpx
from tally_stack.testing import Infra


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def issued(api: httpx.AsyncClient, infra: Infra, scope: str) -> str:
    response = await api.post(
        "/v1/api-keys", json={"name": f"{scope} only", "scopes": [scope]}, headers=bearer(infra.api_key)
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


async def test_starting_an_import_takes_the_admin_scope(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    body = {"api_key": "sk_test_123456789"}
    reader = await issued(gateway_api, infra, "read")

    assert (await gateway_api.post("/v1/imports/stripe", json=body)).status_code == 401
    assert (await gateway_api.post("/v1/imports/stripe", json=body, headers=bearer(reader))).status_code == 403
    forwarded = await gateway_api.post("/v1/imports/stripe", json=body, headers=bearer(infra.api_key))
    assert forwarded.status_code == 503  # billing is down in these tests: the call passed the gateway
    assert forwarded.json()["detail"] == "The billing service is unavailable."


async def test_reading_an_import_takes_the_read_scope(gateway_api: httpx.AsyncClient, infra: Infra) -> None:
    reader = await issued(gateway_api, infra, "read")

    assert (await gateway_api.get("/v1/imports/imp_1")).status_code == 401
    assert (await gateway_api.get("/v1/imports/imp_1", headers=bearer(reader))).status_code == 503
