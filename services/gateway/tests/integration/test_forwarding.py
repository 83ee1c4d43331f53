"""The gateway authenticates, then forwards; a dead upstream degrades to a clear 503, not a hang or a 500."""

from collections.abc import AsyncIterator

import httpx
import pytest
from gateway.app import create_app
from gateway.config import GatewaySettings
from tally_stack.testing import Infra, serving


@pytest.fixture
async def gateway(gateway_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of this test's own, on the conftest's settings (upstreams that do not answer)."""
    async with serving(create_app(gateway_settings), "http://gateway") as client:
        yield client


async def test_callers_without_the_key_are_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/meters", headers={"Authorization": "Bearer wrong-key-123456789"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_dead_upstream_is_a_503_with_retry_after(gateway: httpx.AsyncClient, infra: Infra) -> None:
    response = await gateway.get("/v1/meters", headers={"Authorization": f"Bearer {infra.api_key}"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == "The billing service is unavailable."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/invoices/inv_1/payment"),
        ("POST", "/v1/invoices/inv_1/retry-payment"),
        ("POST", "/v1/customers/cus_1/payment-method"),
    ],
)
async def test_payment_routes_are_forwarded_to_billing_for_a_caller_with_the_key(
    gateway: httpx.AsyncClient, infra: Infra, method: str, path: str
) -> None:
    assert (await gateway.request(method, path)).status_code == 401
    response = await gateway.request(method, path, headers={"Authorization": f"Bearer {infra.api_key}"}, json={})
    assert response.status_code == 503
    assert response.json()["detail"] == "The billing service is unavailable."


async def test_stripe_webhooks_need_no_key(gateway: httpx.AsyncClient) -> None:
    """Stripe cannot send our key: its webhooks pass to billing unauthenticated (billing checks the signature), so
    with billing down the answer is the 503 that Stripe retries, never a 401."""
    for auth in ({}, {"Authorization": "Bearer wrong-key-123456789"}):
        response = await gateway.post(
            "/v1/webhooks/stripe",
            content=b'{"id": "evt_1", "type": "invoice.paid"}',
            headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"} | auth,
        )
        assert response.status_code == 503, response.text
        assert response.json()["detail"] == "The billing service is unavailable."
    assert (await gateway.get("/v1/webhooks/stripe")).status_code == 405


async def test_probes_do_not_need_a_key(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/healthz")).status_code == 200
    assert (await gateway.get("/readyz")).json()["checks"] == ["database"]
