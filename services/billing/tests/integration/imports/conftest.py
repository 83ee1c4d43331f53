import json
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing.config import BillingSettings
from contracts.topics import BILLING_EVENTS
from tally_stack.procs import free_port, stop_process
from tally_stack.stripe_local import start_localstripe
from tally_stack.testing import consume_all, eventually


class Imports:
    """Running imports through the API and reading what they did: Tally's objects, the events announced."""

    def __init__(self, api: httpx.AsyncClient, settings: BillingSettings) -> None:
        self.api = api
        self.settings = settings

    async def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start an import and wait for its end; returns its final status."""
        started = await self.api.post("/v1/imports/stripe", json=body)
        assert started.status_code == 202, started.text
        assert started.headers["location"] == f"/v1/imports/{started.json()['id']}"

        async def ended() -> dict[str, Any]:
            found: dict[str, Any] = (await self.api.get(started.headers["location"])).json()
            assert found["status"] in ("succeeded", "failed"), found
            return found

        return await eventually(ended, seconds=60)

    async def snapshot(self, customer_ids: list[str]) -> list[Any]:
        """The customers with their subscriptions and invoices, as the API shows them."""
        found = []
        for customer_id in customer_ids:
            found.append((await self.api.get(f"/v1/customers/{customer_id}")).json())
            found.append((await self.api.get("/v1/subscriptions", params={"customer_id": customer_id})).json())
            found.append((await self.api.get("/v1/invoices", params={"customer_id": customer_id})).json())
        return found

    async def announced(self, customer_ids: list[str]) -> list[dict[str, Any]]:
        """Every event on billing.events.v1 keyed by one of the customers, in topic order."""
        records = await consume_all(self.settings.kafka_bootstrap_servers, BILLING_EVENTS)
        keys = {customer_id.encode() for customer_id in customer_ids}
        return [json.loads(record.value) for record in records if record.key in keys]

    async def announced_at_least(self, customer_ids: list[str], event_type: str, count: int) -> list[dict[str, Any]]:
        """The customers' events once `count` of `event_type` were relayed."""

        async def enough() -> list[dict[str, Any]]:
            events = await self.announced(customer_ids)
            assert sum(event["type"] == event_type for event in events) >= count
            return events

        return await eventually(enough, seconds=60)

    @staticmethod
    def created(counts: dict[str, dict[str, int]]) -> dict[str, int]:
        return {kind: outcomes["created"] for kind, outcomes in counts.items()}

    @staticmethod
    def mrr_at(events: list[dict[str, Any]], moment: datetime) -> int:
        """MRR as analytics would compute it from the subscription events: each subscription's latest terms taking
        effect by `moment`."""
        terms: dict[str, tuple[datetime, int]] = {}
        for event in events:
            if event["type"].startswith("tally.subscription."):
                data = event["data"]
                effective = datetime.fromisoformat(data["effective_at"])
                if effective <= moment and effective >= terms.get(data["subscription_id"], (effective, 0))[0]:
                    terms[data["subscription_id"]] = (effective, data["terms"]["mrr_minor"])
        return sum(mrr for _, mrr in terms.values())


@pytest.fixture(scope="session")
def imports(billing_api: httpx.AsyncClient, billing_settings: BillingSettings) -> Imports:
    return Imports(billing_api, billing_settings)


@pytest.fixture(scope="module")
def account_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Stripe account (a localstripe) of each test module's own: an import reads the whole account, and the
    session's localstripe holds whatever other tests made in it."""
    port = free_port()
    proc = start_localstripe(port, Path(tmp_path_factory.mktemp("import-stripe")) / "localstripe.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, signal.SIGINT)
