"""A simulated product backend: creates the demo catalog (meters and plans), three customers and their
subscriptions (two with months of history to invoice), then reports their usage every second.

Reads TALLY_GATEWAY_URL, TALLY_INGEST_URL and TALLY_API_KEY. Runs until SIGTERM/SIGINT, or for
`--max-batches N` batches. It never gives up on its own (under the supervisor, one process
exiting stops them all): failures are logged and retried politely."""

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tally_stack.demo_catalog import CARDS, METERS, PLANS, SUBSCRIPTIONS
from tally_stack.demo_catalog import CUSTOMERS as DEMO_CUSTOMERS

log = logging.getLogger("tally.demo")

CUSTOMERS = tuple(customer["external_id"] for customer in DEMO_CUSTOMERS)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_BACKOFF = 10.0


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_batch(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Per customer: one to three `api_call` events with a random token count, and up to two AI requests."""
    now = utc_now_iso()
    events = [
        {
            "id": str(uuid.uuid4()),
            "customer_id": customer,
            "type": event_type,
            "timestamp": now,
            "properties": properties,
        }
        for customer in CUSTOMERS
        for event_type, properties in [("api_call", {"tokens": rng.randint(10, 2000)})] * rng.randint(1, 3)
        + [("ai.request", {"model": rng.choice(("small", "large"))})] * rng.randint(0, 2)
    ]
    return {"events": events}


class Demo:
    def __init__(
        self, client: httpx.AsyncClient, gateway_url: str, ingest_url: str, stripe: tuple[str, str] | None = None
    ) -> None:
        self.client = client
        self.gateway_url = gateway_url.rstrip("/")
        self.ingest_url = ingest_url.rstrip("/")
        self.stripe = stripe  # (api base, key) of a local Stripe
        self.stopping = asyncio.Event()

    async def run(self, max_batches: int | None) -> None:
        if not await self.wait_ready():
            return
        await self.create_catalog()
        rng = random.Random()
        sent = 0
        while not self.stopping.is_set() and (max_batches is None or sent < max_batches):
            batch = make_batch(rng)
            response = await self.post(f"{self.ingest_url}/v1/events/batch", batch)
            if response is None:
                return
            sent += 1
            counts = ", ".join(f"{c}={sum(e['customer_id'] == c for e in batch['events'])}" for c in CUSTOMERS)
            log.info("batch %d: %d events (%s) -> %d", sent, len(batch["events"]), counts, response.status_code)
            if max_batches is None or sent < max_batches:
                await self.sleep(1.0)

    async def wait_ready(self) -> bool:
        """Wait until the gateway and usage-ingest both answer /readyz with 200; False if stopped first."""
        for url in (self.gateway_url, self.ingest_url):
            waited = 0
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await self.client.get(f"{url}/readyz")).status_code == 200:
                        break
                if waited % 15 == 0:
                    log.info("waiting for %s/readyz", url)
                if await self.sleep(1.0):
                    return False
                waited += 1
        return True

    async def create_catalog(self) -> None:
        """Meters, plans and customers (409: there already), then each customer's subscription unless it has one."""
        for path, items in (("/v1/meters", METERS), ("/v1/plans", PLANS), ("/v1/customers", DEMO_CUSTOMERS)):
            for item in items:
                response = await self.post(f"{self.gateway_url}{path}", item)
                if response is None:
                    return
                name = item.get("key") or item["external_id"]
                log.info("%s %s %s", path, name, "already exists" if response.status_code == 409 else "created")
        today = datetime.now(UTC).date()
        for subscription in SUBSCRIPTIONS:
            existing = await self.client.get(
                f"{self.gateway_url}/v1/subscriptions", params={"customer_id": subscription["customer_id"]}
            )
            if existing.is_success and existing.json()["data"]:
                continue
            body = {name: value for name, value in subscription.items() if name != "days_ago"}
            body["start_date"] = (today - timedelta(days=subscription["days_ago"])).isoformat()
            if await self.post(f"{self.gateway_url}/v1/subscriptions", body) is None:
                return
            log.info("subscribed %s to %s", subscription["customer_id"], subscription["plan_key"])
        await self.attach_cards()

    async def attach_cards(self) -> None:
        """With a local Stripe: each customer's card made there (as Stripe.js would in their browser), then given to
        billing, which charges their invoices to it."""
        if self.stripe is None:
            return
        api_base, key = self.stripe
        for customer, number in CARDS.items():
            card = {"type": "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030"}
            made = await self.client.post(
                f"{api_base}/v1/payment_methods",
                data=card | {"card[cvc]": "123"},
                headers={"Authorization": f"Bearer {key}"},
            )
            if not made.is_success:
                log.warning("localstripe refused a card for %s: %d %s", customer, made.status_code, made.text[:200])
                continue
            body = {"payment_method": made.json()["id"]}
            response = await self.post(f"{self.gateway_url}/v1/customers/{customer}/payment-method", body)
            if response is not None and response.is_success:
                log.info("%s pays with card ...%s", customer, number[-4:])

    async def post(self, url: str, body: dict[str, Any]) -> httpx.Response | None:
        """POST, retrying connection errors and 429/502/503/504 with backoff, logging any other failure;
        None once stopped."""
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                response = await self.client.post(url, json=body)
            except httpx.HTTPError as exc:
                log.warning("POST %s failed (%s); retrying in %.0f s", url, type(exc).__name__, backoff)
            else:
                if response.status_code not in RETRY_STATUSES:
                    if not response.is_success and response.status_code != 409:
                        log.warning("POST %s -> %d %s", url, response.status_code, response.text[:300])
                    return response
                log.warning("POST %s -> %d; retrying in %.0f s", url, response.status_code, backoff)
            if await self.sleep(backoff):
                break
            backoff = min(backoff * 2, MAX_BACKOFF)
        return None

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        return self.stopping.is_set()


async def run_demo(
    gateway_url: str,
    ingest_url: str,
    api_key: str,
    max_batches: int | None = None,
    stripe: tuple[str, str] | None = None,
) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=10.0) as client:
        demo = Demo(client, gateway_url, ingest_url, stripe)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, demo.stopping.set)
        await demo.run(max_batches)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tally_stack.demo", description=__doc__)
    parser.add_argument("--max-batches", type=int, default=None, help="stop after N batches")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    env = os.environ
    if not env.get("TALLY_API_KEY"):
        parser.error("TALLY_API_KEY is not set")
    gateway_url = env.get("TALLY_GATEWAY_URL", "http://127.0.0.1:8000")
    ingest_url = env.get("TALLY_INGEST_URL", "http://127.0.0.1:8001")
    stripe = (
        (env["TALLY_DEMO_STRIPE_API_BASE"], env["TALLY_DEMO_STRIPE_KEY"]) if "TALLY_DEMO_STRIPE_KEY" in env else None
    )
    asyncio.run(run_demo(gateway_url, ingest_url, env["TALLY_API_KEY"], args.max_batches, stripe))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
