"""The single registry of Tally's processes and the environment each one is started with."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tally_stack.stripe_local import billing_env

if TYPE_CHECKING:
    from tally_stack.stack import Stack

Role = Literal["api", "worker"]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    api_port: int
    worker_port: int | None
    schema: str | None

    @property
    def env_prefix(self) -> str:
        return self.package.upper()

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def roles(self) -> tuple[Role, ...]:
        return ("api",) if self.worker_port is None else ("api", "worker")

    def command(self, role: Role) -> list[str]:
        return [sys.executable, "-m", self.package, role]


SERVICES: tuple[Service, ...] = (
    Service("usage-ingest", "usage_ingest", 8001, None, None),
    Service("billing", "billing", 8002, 9002, "billing"),
    Service("analytics", "analytics", 8003, 9003, "analytics"),
    Service("assistant", "assistant", 8004, None, "assistant"),
    Service("gateway", "gateway", 8000, 9000, "gateway"),
)

SCHEMAS: tuple[str, ...] = tuple(s.schema for s in SERVICES if s.schema is not None)

# The gateway's upstreams: environment variable -> service name.
GATEWAY_UPSTREAMS: dict[str, str] = {
    "GATEWAY_BILLING_URL": "billing",
    "GATEWAY_INGEST_URL": "usage-ingest",
    "GATEWAY_ANALYTICS_URL": "analytics",
    "GATEWAY_ASSISTANT_URL": "assistant",
}


def get_service(name: str, services: Sequence[Service] = SERVICES) -> Service:
    for service in services:
        if service.name == name:
            return service
    raise KeyError(f"no service named {name!r}")


def service_env(service: Service, stack: Stack, services: Sequence[Service] = SERVICES) -> dict[str, str]:
    """The variables a service's processes (api and worker alike) need, on top of the inherited environment.
    `services` is the set it runs among (tests run one on other ports). Billing gets the stack's localstripe,
    if it runs one; else it inherits BILLING_STRIPE_* (a real Stripe) from the environment."""
    prefix = service.env_prefix
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "TALLY_BOOTSTRAP_API_KEY": stack.api_key,
        f"{prefix}_API_PORT": str(service.api_port),
    }
    if service.worker_port is not None:
        env[f"{prefix}_WORKER_PORT"] = str(service.worker_port)
    if service.schema is not None:
        env[f"{prefix}_DATABASE_URL"] = stack.database_urls[service.schema]
    if service.name == "billing" and stack.local_stripe is not None:
        env.update(billing_env(stack.local_stripe))
    if service.name == "gateway":
        env.update({var: get_service(name, services).api_url for var, name in GATEWAY_UPSTREAMS.items()})
        env.update({"TALLY_ADMIN_EMAIL": stack.admin_email, "TALLY_ADMIN_PASSWORD": stack.admin_password})
    return env
