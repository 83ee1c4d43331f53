"""pytest plugin: the whole system as real processes (every api and worker) on ports of its own."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tally_stack.procs import free_port, log_tail, send_signal, stop_process
from tally_stack.services import SERVICES, Service, service_env
from tally_stack.stack import Stack
from tally_stack.stripe_local import (
    STACK_WEBHOOK,
    TEST_API_KEY,
    WEBHOOK_PATH,
    LocalStripe,
    new_webhook_secret,
    register_webhook,
    start_localstripe,
)
from tally_stack.testing import Infra, own_database

READY_TIMEOUT_S = 90


@dataclass
class System:
    services: tuple[Service, ...]
    stack: Stack
    logs: Path
    extra_env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def local_stripe(self) -> LocalStripe:
        if self.stack.local_stripe is None:
            raise RuntimeError("this system runs no localstripe")
        return self.stack.local_stripe

    def url(self, name: str) -> str:
        return next(s.api_url for s in self.services if s.name == name)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def start(self, name: str, role: str) -> None:
        running = self.procs.get(f"{name}.{role}")
        if running is not None and running.poll() is None:
            raise RuntimeError(f"{name}.{role} is running already (pid {running.pid})")
        service = self.service(name)
        env = os.environ | service_env(service, self.stack, self.services) | self.extra_env
        log = (self.logs / f"{name}.{role}.log").open("ab")
        self.procs[f"{name}.{role}"] = subprocess.Popen(
            [sys.executable, "-m", service.package, role],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a kill reaches the processes it spawns too
        )

    def kill(self, name: str, role: str) -> None:
        """SIGKILL: no shutdown hooks, no last commit."""
        proc = self.procs.pop(f"{name}.{role}")
        send_signal(proc, signal.SIGKILL, group=True)
        proc.wait()

    def wait_ready(self, name: str, role: str) -> None:
        service = self.service(name)
        url = f"{service.api_url}/readyz" if role == "api" else f"http://127.0.0.1:{service.worker_port}/readyz"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.procs[f"{name}.{role}"].poll() is not None:
                break
            try:
                if httpx.get(url, timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name}.{role} is not ready:\n{log_tail(self.logs / f'{name}.{role}.log')}")


@pytest.fixture(scope="session")
def system(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A database of its own, so in-process workers of other tests cannot do the system's work for it."""
    with own_database(infra.admin_url, f"tally_e2e_{os.getpid()}", infra.passwords) as database_urls:
        yield from run_system(infra, database_urls, tmp_path_factory.mktemp("e2e-logs"))


def run_system(
    infra: Infra, database_urls: dict[str, str], logs: Path, without: frozenset[str] = frozenset()
) -> Iterator[System]:
    """Every process of every service (but those named in `without`, e.g. `analytics.worker`), pointed like
    `make run` at a localstripe of the system's own (whose webhook reaches the system's gateway, and whose objects
    and events no other test sees)."""
    services = tuple(
        replace(s, api_port=free_port(), worker_port=free_port() if s.worker_port else None) for s in SERVICES
    )
    stripe_port = free_port()
    stripe_proc = start_localstripe(stripe_port, logs / "localstripe.log")
    stack = Stack(
        kafka_bootstrap=infra.kafka_bootstrap,
        database_url=infra.admin_url,
        database_urls=database_urls,
        api_key=infra.api_key,
        gateway_url=next(s.api_url for s in services if s.name == "gateway"),
        ingest_url=next(s.api_url for s in services if s.name == "usage-ingest"),
        local_stripe=LocalStripe(f"http://127.0.0.1:{stripe_port}", TEST_API_KEY, new_webhook_secret()),
        admin_email=infra.admin_email,
        admin_password=infra.admin_password,
    )
    extra = {
        "BILLING_CONSUMER_GROUP": f"billing-e2e-{uuid4().hex[:8]}",
        "ANALYTICS_CONSUMER_GROUP": f"analytics-e2e-{uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        # the worker's runs come often, and invoices are numbered at once, so tests see payments within seconds
        "BILLING_INVOICE_RUN_EVERY_S": "1",
        "BILLING_PAYMENT_RUN_EVERY_S": "1",
        "BILLING_INVOICE_DRAFT_HOURS": "0",
    }
    system = System(services, stack, logs, extra)
    try:
        stripe = system.local_stripe
        register_webhook(stripe.api_base, STACK_WEBHOOK, stack.gateway_url + WEBHOOK_PATH, stripe.webhook_secret)
        processes = [(s.name, role) for s in services for role in s.roles if f"{s.name}.{role}" not in without]
        for name, role in processes:
            system.start(name, role)
        for name, role in processes:
            system.wait_ready(name, role)
        yield system
    finally:
        for proc in system.procs.values():
            stop_process(proc)
        stop_process(stripe_proc, signal.SIGINT)
