"""localstripe as the tests and `make run` use it: the official SDK talks to it over HTTP, and its signed webhook
deliveries pass the SDK's signature check."""

import json
from pathlib import Path
from uuid import uuid4

import pytest
import stripe
from tally_stack.procs import free_port, port_is_free, stop_process
from tally_stack.stripe_local import (
    API_BASE_VAR,
    API_KEY_VAR,
    COLLECTION_VAR,
    TEST_API_KEY,
    WEBHOOK_PATH,
    WEBHOOK_SECRETS_VAR,
    LocalStripe,
    billing_env,
    real_stripe_key,
    start_stack_stripe,
    wait_for_localstripe,
)
from tally_stack.testing import WebhookInbox, eventually, recording_server, webhook_receiver


def client(local: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(local.api_key, base_addresses={"api": local.api_base}, max_network_retries=0)


def test_the_sdk_creates_and_reads_back_a_customer(local_stripe: LocalStripe) -> None:
    assert local_stripe.api_key == TEST_API_KEY
    assert local_stripe.webhook_secret.startswith("whsec_")
    sdk = client(local_stripe)
    email = f"{uuid4().hex[:8]}@example.com"
    created = sdk.v1.customers.create(params={"email": email, "name": "Acme", "metadata": {"tally_id": "cus_1"}})
    assert created.id.startswith("cus_")
    found = sdk.v1.customers.retrieve(created.id)
    assert (found.email, found.name, found.metadata["tally_id"]) == (email, "Acme", "cus_1")


async def test_the_async_sdk_works_too(local_stripe: LocalStripe) -> None:
    sdk = stripe.StripeClient(
        local_stripe.api_key, base_addresses={"api": local_stripe.api_base}, http_client=stripe.HTTPXClient(timeout=10)
    )
    created = await sdk.v1.customers.create_async(params={"email": "async@example.com"})
    assert (await sdk.v1.customers.retrieve_async(created.id)).email == "async@example.com"


def test_a_wrong_key_is_refused(local_stripe: LocalStripe) -> None:
    sdk = stripe.StripeClient("pk_test_not_secret", base_addresses={"api": local_stripe.api_base})
    with pytest.raises(stripe.AuthenticationError):
        sdk.v1.customers.list()


def _delivery_about(inbox: WebhookInbox, object_id: str) -> tuple[bytes, str]:
    for delivery in inbox.deliveries:
        if json.loads(delivery.body)["data"]["object"]["id"] == object_id:
            return delivery.body, delivery.headers["Stripe-Signature"]
    raise AssertionError(f"no delivery about {object_id} yet ({len(inbox.deliveries)} in all)")


async def test_a_registered_webhook_gets_events_signed_like_stripes(local_stripe: LocalStripe) -> None:
    async with webhook_receiver(local_stripe, ["customer.created"]) as inbox:
        created = await client(local_stripe).v1.customers.create_async(params={"email": "hook@example.com"})

        async def delivered() -> tuple[bytes, str]:
            return _delivery_about(inbox, created.id)

        payload, signature = await eventually(delivered, seconds=15)
    event = stripe.Webhook.construct_event(payload, signature, local_stripe.webhook_secret)
    assert (event.type, event.data.object["id"]) == ("customer.created", created.id)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"hook@", b"evil@"), signature, local_stripe.webhook_secret)
    assert all(json.loads(d.body)["type"] == "customer.created" for d in inbox.deliveries)


def test_a_real_key_is_one_that_is_set_and_not_localstripes() -> None:
    assert real_stripe_key({API_KEY_VAR: "sk_live_abc"})
    assert real_stripe_key({API_KEY_VAR: "sk_test_mine"})
    assert not real_stripe_key({})
    assert not real_stripe_key({API_KEY_VAR: ""})
    assert not real_stripe_key({API_KEY_VAR: TEST_API_KEY})  # from a shell that sourced an earlier stack.env


def test_make_run_starts_nothing_when_a_real_key_is_given(tmp_path: Path) -> None:
    port = free_port()
    env = {API_KEY_VAR: "sk_test_real_account", API_BASE_VAR: "https://stripe.example"}
    assert start_stack_stripe(tmp_path, env, "http://127.0.0.1:8000", port=port) == (None, None)
    assert port_is_free(port)
    assert not (tmp_path / "localstripe.log").exists()


async def test_make_run_starts_localstripe_with_a_webhook_to_the_gateway(tmp_path: Path) -> None:
    async with recording_server() as gateway:
        local, proc = start_stack_stripe(tmp_path, {}, gateway.base_url, port=free_port())
        assert local is not None and proc is not None
        try:
            assert (local.api_key, local.webhook_secret[:6]) == (TEST_API_KEY, "whsec_")
            wait_for_localstripe(local.api_base, 1)
            created = await client(local).v1.customers.create_async(params={"email": "run@example.com"})

            async def delivered() -> tuple[bytes, str]:
                return _delivery_about(gateway, created.id)

            payload, signature = await eventually(delivered, seconds=15)
            assert stripe.Webhook.construct_event(payload, signature, local.webhook_secret).type == "customer.created"
            assert {d.path for d in gateway.deliveries} == {WEBHOOK_PATH}
        finally:
            stop_process(proc)
    assert (tmp_path / "localstripe.log").exists()


def test_a_taken_port_moves_make_runs_localstripe_elsewhere(tmp_path: Path, local_stripe: LocalStripe) -> None:
    taken = int(local_stripe.api_base.rsplit(":", 1)[1])
    local, proc = start_stack_stripe(tmp_path, {}, "http://127.0.0.1:1", port=taken)
    assert local is not None and proc is not None
    try:
        assert local.api_base != local_stripe.api_base
        wait_for_localstripe(local.api_base, 1)
    finally:
        stop_process(proc)
    assert proc.returncode is not None


def test_billing_env_points_billing_at_localstripe_collecting_by_payment_intent() -> None:
    local = LocalStripe("http://127.0.0.1:8420", TEST_API_KEY, "whsec_abc")
    assert billing_env(local) == {
        API_KEY_VAR: TEST_API_KEY,
        API_BASE_VAR: "http://127.0.0.1:8420",
        WEBHOOK_SECRETS_VAR: "whsec_abc",
        COLLECTION_VAR: "payment_intent",
    }
