"""`make run`'s demo against the real processes: its customers subscribe and get cards on the local Stripe; their
invoices are written and collected, and the declined card's subscription goes past_due."""

from typing import Any

import httpx
import pytest
from tally_stack.demo import CUSTOMERS, run_demo
from tally_stack.demo_catalog import SUBSCRIPTIONS
from tally_stack.system import System
from tally_stack.testing import eventually

pytestmark = pytest.mark.e2e


async def test_the_demo_subscribes_its_customers_and_invoices_them(system: System) -> None:
    gateway, stripe = system.url("gateway"), (system.local_stripe.api_base, system.local_stripe.api_key)
    await run_demo(gateway, system.url("usage-ingest"), system.stack.api_key, max_batches=2, stripe=stripe)
    await run_demo(gateway, system.url("usage-ingest"), system.stack.api_key, max_batches=1)  # a restart adds nothing

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {system.stack.api_key}"}, timeout=10) as http:
        for customer, wanted in zip(CUSTOMERS, SUBSCRIPTIONS, strict=True):
            subscriptions: list[dict[str, Any]] = (
                await http.get(f"{gateway}/v1/subscriptions", params={"customer_id": customer})
            ).json()["data"]
            assert [s["plan"]["key"] for s in subscriptions] == [wanted["plan_key"]]
        invoices = (await http.get(f"{gateway}/v1/invoices", params={"customer_id": "acme-42"})).json()["data"]
        assert invoices and invoices[-1]["lines"][0]["kind"] == "base_fee"
        trial = (await http.get(f"{gateway}/v1/invoices", params={"customer_id": "initech-3"})).json()["data"]
        assert trial == []


async def test_the_demo_cards_pay_and_the_declined_one_goes_past_due(system: System) -> None:
    gateway, stripe = system.url("gateway"), (system.local_stripe.api_base, system.local_stripe.api_key)
    await run_demo(gateway, system.url("usage-ingest"), system.stack.api_key, max_batches=1, stripe=stripe)

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {system.stack.api_key}"}, timeout=10) as http:

        async def collected() -> None:
            acme = (await http.get(f"{gateway}/v1/invoices", params={"customer_id": "acme-42"})).json()["data"]
            assert acme and all(invoice["status"] == "paid" for invoice in acme)
            [globex] = (await http.get(f"{gateway}/v1/subscriptions", params={"customer_id": "globex-7"})).json()[
                "data"
            ]
            assert globex["status"] == "past_due"

        await eventually(collected, 90)
