"""Stripe's webhooks through the real processes: localstripe signs, the gateway forwards the raw bytes and headers
without asking for our key, billing checks the signature and keeps the event once."""

import json
from uuid import uuid4

import asyncpg
import httpx
import pytest
import stripe
from tally_stack.dsn import libpq_url
from tally_stack.stripe_local import WEBHOOK_PATH, signed_headers
from tally_stack.system import System
from tally_stack.testing import eventually

pytestmark = pytest.mark.e2e


async def test_the_gateway_hands_billing_the_exact_bytes_without_a_key(system: System) -> None:
    # Spacing, key order and a non-ASCII name that any re-encoding of the JSON would change.
    event_id = f"evt_{uuid4().hex}"
    payload = (
        f'{{\n  "type": "customer.updated",  "id": "{event_id}", "object": "event",\n'
        f'  "data": {{"object": {{"id": "cus_e2e", "name": "Zo\u00eb \u2014 caf\u00e9"}}}}\n}}'
    ).encode()
    headers = signed_headers(payload, system.local_stripe.webhook_secret)
    url = system.url("gateway") + WEBHOOK_PATH
    async with httpx.AsyncClient(timeout=10) as http:
        first = await http.post(url, content=payload, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json() == {"received": True, "new": True}
        again = await http.post(url, content=payload, headers=headers)
        assert again.json() == {"received": True, "new": False}
        tampered = await http.post(url, content=payload.replace(b"e2e", b"e2f"), headers=headers)
        assert tampered.status_code == 400, tampered.text
        unsigned = await http.post(url, content=payload, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 400, unsigned.text


async def test_localstripes_events_reach_billings_inbox(system: System) -> None:
    local = system.local_stripe
    sdk = stripe.StripeClient(local.api_key, base_addresses={"api": local.api_base})
    created = await sdk.v1.customers.create_async(params={"email": f"{uuid4().hex[:8]}@example.com"})
    connection = await asyncpg.connect(libpq_url(system.stack.database_urls["billing"]))
    try:

        async def kept() -> asyncpg.Record:
            row = await connection.fetchrow(
                "SELECT id, type, payload FROM billing.stripe_events WHERE payload->'data'->'object'->>'id' = $1",
                created.id,
            )
            assert row is not None, f"no event about {created.id} in billing's inbox yet"
            return row

        row = await eventually(kept, 30)
    finally:
        await connection.close()
    assert row["id"].startswith("evt_")
    assert row["type"] == "customer.created"
    assert json.loads(row["payload"])["data"]["object"]["email"] == created.email
