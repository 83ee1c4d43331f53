"""Plans are versioned terms checked against the meters and the pricing rules, on the real Postgres."""

import asyncio
from typing import Any
from uuid import uuid4

import httpx
from tally_stack.demo_catalog import METERS, PLANS


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


async def meter(api: httpx.AsyncClient) -> str:
    key = unique("ai_requests")
    response = await api.post("/v1/meters", json={"key": key, "event_type": unique("ai"), "aggregation": "count"})
    assert response.status_code == 201, response.text
    return key


def starter(key: str, ai_requests: str, **changes: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": "Starter",
        "currency": "usd",
        "interval": "month",
        "base_price_minor": 4900,
        "trial_days": 14,
        "charges": [{"meter": ai_requests, "model": "per_unit", "unit_price": "10", "included_units": "500"}],
        "entitlements": {ai_requests: 500, "advanced_analytics": False},
    } | changes


async def test_a_plan_keeps_its_terms_exactly(billing_api: httpx.AsyncClient) -> None:
    ai_requests, key = await meter(billing_api), unique("starter")
    tiers = [
        {"up_to": "1000", "unit_price": "0.10", "flat_fee_minor": 0},
        {"up_to": None, "unit_price": "0.05", "flat_fee_minor": 0},
    ]
    graduated = {"meter": ai_requests, "model": "graduated", "tiers": tiers}
    response = await billing_api.post("/v1/plans", json=starter(key, ai_requests, charges=[graduated]))
    assert response.status_code == 201, response.text
    plan = response.json()
    assert (plan["key"], plan["version"], plan["currency"], plan["base_price_minor"]) == (key, 1, "USD", 4900)
    assert plan["id"].startswith("pln_")
    assert plan["charges"][0]["tiers"] == tiers
    assert plan["entitlements"] == {ai_requests: 500, "advanced_analytics": False}
    assert (await billing_api.get(f"/v1/plans/{key}")).json() == plan
    again = await billing_api.post("/v1/plans", json=starter(key, ai_requests))
    assert again.status_code == 409


async def test_a_change_is_a_new_version_and_the_old_one_stays(billing_api: httpx.AsyncClient) -> None:
    ai_requests, key = await meter(billing_api), unique("pro")
    first = (await billing_api.post("/v1/plans", json=starter(key, ai_requests))).json()
    terms = starter(key, ai_requests, name="Starter 2027", base_price_minor=5900)
    del terms["key"]
    response = await billing_api.post(f"/v1/plans/{key}/versions", json=terms)
    assert response.status_code == 201, response.text
    second = response.json()
    assert (second["version"], second["base_price_minor"], second["name"]) == (2, 5900, "Starter 2027")
    assert second["id"] != first["id"]
    assert (await billing_api.get(f"/v1/plans/{key}")).json()["version"] == 2
    assert (await billing_api.get(f"/v1/plans/{key}", params={"version": 1})).json() == first
    versions = (await billing_api.get(f"/v1/plans/{key}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    listed = (await billing_api.get("/v1/plans", params={"limit": 200})).json()["data"]
    assert [p["version"] for p in listed if p["key"] == key] == [2]
    missing = await billing_api.post(f"/v1/plans/{unique('nope')}/versions", json=terms)
    assert missing.status_code == 404


async def test_plans_page_by_key(billing_api: httpx.AsyncClient) -> None:
    ai_requests = await meter(billing_api)
    for _ in range(3):
        assert (await billing_api.post("/v1/plans", json=starter(unique("paged"), ai_requests))).status_code == 201
    first = (await billing_api.get("/v1/plans", params={"limit": 2})).json()
    second = (await billing_api.get("/v1/plans", params={"limit": 2, "after": first["next_cursor"]})).json()
    keys = [p["key"] for p in first["data"] + second["data"]]
    assert keys == sorted(keys) and len(set(keys)) == 4


async def test_invalid_terms_name_every_field_and_create_nothing(billing_api: httpx.AsyncClient) -> None:
    ai_requests, key = await meter(billing_api), unique("broken")
    charges = [
        {"meter": unique("ghost"), "model": "per_unit", "unit_price": "1"},
        {
            "meter": ai_requests,
            "model": "graduated",
            "tiers": [
                {"up_to": "100", "unit_price": "1"},
                {"up_to": "50", "unit_price": "1"},
                {"up_to": "200", "unit_price": "1"},
            ],
        },
        {"meter": ai_requests, "model": "per_unit", "unit_price": "-1"},
    ]
    body = starter(key, ai_requests, charges=charges, entitlements={"ghost_limit": 5, "sso": True})
    response = await billing_api.post("/v1/plans", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"body.charges.0.meter", "body.charges.2.meter", "body.entitlements.ghost_limit"} <= fields
    assert any(field.startswith("body.charges.1.tiers") for field in fields)
    assert "body.charges.2.unit_price" in fields
    assert (await billing_api.get(f"/v1/plans/{key}")).status_code == 404


async def test_prices_must_be_exact(billing_api: httpx.AsyncClient) -> None:
    ai_requests, key = await meter(billing_api), unique("floaty")
    charge = {"meter": ai_requests, "model": "per_unit", "unit_price": 0.1}
    response = await billing_api.post("/v1/plans", json=starter(key, ai_requests, charges=[charge]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.charges.0.unit_price"
    bad_interval = await billing_api.post("/v1/plans", json=starter(key, ai_requests, interval="week"))
    assert bad_interval.json()["errors"][0]["field"] == "body.interval"


async def test_the_demo_catalog_is_accepted(billing_api: httpx.AsyncClient) -> None:
    for meter_body in METERS:
        assert (await billing_api.post("/v1/meters", json=meter_body)).status_code in {201, 409}
    for plan in PLANS:
        response = await billing_api.post("/v1/plans", json=plan)
        assert response.status_code in {201, 409}, response.text
    yearly = (await billing_api.get("/v1/plans/professional_yearly")).json()
    assert (yearly["interval"], yearly["base_price_minor"], yearly["currency"]) == ("year", 99000, "USD")
    overage = yearly["charges"][0]
    assert (overage["meter"], overage["unit_price"], overage["included_units"]) == ("ai_requests", "10", "2000")


async def test_concurrent_changes_each_get_their_own_version(billing_api: httpx.AsyncClient) -> None:
    ai_requests, key = await meter(billing_api), unique("busy")
    assert (await billing_api.post("/v1/plans", json=starter(key, ai_requests))).status_code == 201
    terms = starter(key, ai_requests)
    del terms["key"]
    prices = [5000 + n for n in range(5)]
    responses = await asyncio.gather(
        *(billing_api.post(f"/v1/plans/{key}/versions", json=terms | {"base_price_minor": p}) for p in prices)
    )
    assert sorted((r.json()["version"], r.json()["base_price_minor"]) for r in responses) == sorted(
        (v["version"], v["base_price_minor"]) for v in (await billing_api.get(f"/v1/plans/{key}/versions")).json()[1:]
    )
    versions = (await billing_api.get(f"/v1/plans/{key}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4, 5, 6]
    assert sorted(v["base_price_minor"] for v in versions[1:]) == prices
