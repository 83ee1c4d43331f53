"""Every service process, and the demo, under one honcho supervisor with prefixed, coloured logs."""

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from honcho.manager import Manager

from tally_stack.services import SERVICES, Role, Service, service_env
from tally_stack.stack import Stack, stop_infrastructure

# Never handed down to services: each gets its own role's URL, not the superuser's.
_WITHHELD = frozenset({"DATABASE_URL"})


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: list[str]
    env: dict[str, str]  # on top of the supervisor's own environment


# Billing's worker starts once the demo's history is written (or found there): it would otherwise close the
# history's periods at today's date before the history reaches them. The history waits for the demo's plans.
DEMO_HISTORY = [sys.executable, "-m", "billing.demo", "--customers", "500", "--months", "24", "--wait", "300"]


def process_table(stack: Stack) -> list[ProcessSpec]:
    """`<service>.api` for every service, `<service>.worker` for those with a worker (billing's after the demo
    history), then `demo`."""
    table = [
        ProcessSpec(f"{service.name}.{role}", _command(service, role), service_env(service, stack))
        for service in SERVICES
        for role in service.roles
    ]
    demo_env = {
        "TALLY_GATEWAY_URL": stack.gateway_url,
        "TALLY_INGEST_URL": stack.ingest_url,
        "TALLY_API_KEY": stack.api_key,
    }
    if stack.local_stripe is not None:  # the demo's "browser" makes its customers' cards there, as Stripe.js would
        demo_env |= {
            "TALLY_DEMO_STRIPE_API_BASE": stack.local_stripe.api_base,
            "TALLY_DEMO_STRIPE_KEY": stack.local_stripe.api_key,
        }
    table.append(ProcessSpec("demo", [sys.executable, "-m", "tally_stack.demo"], demo_env))
    return table


def _command(service: Service, role: Role) -> list[str]:
    if (service.name, role) != ("billing", "worker"):
        return service.command(role)
    return ["sh", "-c", f"{shlex.join(DEMO_HISTORY)}; exec {shlex.join(service.command(role))}"]


def child_env(spec: ProcessSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a process: ours, less the superuser's DATABASE_URL, plus its own."""
    env = {key: value for key, value in environ.items() if key not in _WITHHELD}
    env["PYTHONUNBUFFERED"] = "1"  # log lines as they happen, not when a buffer fills
    return env | spec.env


def build_manager(stack: Stack) -> Manager:
    manager = Manager()
    for spec in process_table(stack):
        manager.add_process(spec.name, shlex.join(spec.command), env=child_env(spec, os.environ))
    return manager


def run_foreground(stack: Stack) -> int:
    """Run every process until one exits, or Ctrl-C / SIGTERM (honcho then stops them all), then stop
    the broker and PostgreSQL this stack started. Returns the exit code."""
    try:
        manager = build_manager(stack)
        manager.loop()
    finally:
        stop_infrastructure(stack)
    return int(manager.returncode or 0)
