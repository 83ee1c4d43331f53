"""Customers: our id or the product's external id, exact tax rates, and refusals that name the field."""

from typing import Any
from uuid import uuid4

import httpx
import pytest


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


@pytest.fixture
def customer(kit: Any) -> Any:
    return kit.customer


async def test_a_customer_is_found_by_either_id(billing_api: httpx.AsyncClient, customer: Any) -> None:
    made = await customer(email="ap@acme.example", tax_rate="0.2", metadata={"segment": "smb"})
    assert made["id"].startswith("cus_")
    assert (made["tax_rate"], made["metadata"], made["currency"]) == ("0.2", {"segment": "smb"}, "USD")
    by_external = (await billing_api.get(f"/v1/customers/{made['external_id']}")).json()
    assert by_external == (await billing_api.get(f"/v1/customers/{made['id']}")).json() == made
    assert (await billing_api.get(f"/v1/customers/{unique('nobody')}")).status_code == 404


async def test_an_external_id_belongs_to_one_customer(billing_api: httpx.AsyncClient, customer: Any) -> None:
    made = await customer()
    again = await billing_api.post(
        "/v1/customers", json={"external_id": made["external_id"], "name": "B", "currency": "EUR"}
    )
    assert again.status_code == 409
    assert again.json()["errors"] == [{"field": "body.external_id", "reason": "already used by another customer"}]


async def test_bad_fields_are_named(billing_api: httpx.AsyncClient, customer: Any) -> None:
    body = {"name": "", "currency": "dollars", "tax_rate": 0.2, "email": "not-an-email"}
    response = await billing_api.post("/v1/customers", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"body.name", "body.currency", "body.tax_rate", "body.email"} <= fields
    too_high = await billing_api.post("/v1/customers", json={"name": "A", "currency": "USD", "tax_rate": "1.5"})
    assert too_high.status_code == 422


async def test_an_update_changes_only_what_it_names(billing_api: httpx.AsyncClient, customer: Any) -> None:
    made = await customer(email="old@acme.example")
    response = await billing_api.patch(f"/v1/customers/{made['external_id']}", json={"tax_rate": "0.075"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["tax_rate"], updated["email"], updated["name"]) == ("0.075", "old@acme.example", "Acme")
    refused = await billing_api.patch(f"/v1/customers/{made['id']}", json={"currency": "EUR"})
    assert refused.status_code == 422


async def test_search_finds_by_name_and_pages(billing_api: httpx.AsyncClient, customer: Any) -> None:
    name = unique("Globex")
    ids = [(await customer(name=name))["id"] for _ in range(3)]
    first = (await billing_api.get("/v1/customers", params={"search": name, "limit": 2})).json()
    rest = (await billing_api.get("/v1/customers", params={"search": name, "after": first["next_cursor"]})).json()
    assert [c["id"] for c in first["data"] + rest["data"]] == sorted(ids)
    assert rest["next_cursor"] is None
