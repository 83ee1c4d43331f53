"""`python -m tally_stack run | up | down`: the whole system on this machine."""

import argparse
import os
import signal
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from tally_stack.daemon import ENV_FILE, PENDING_ENV_FILE, down, stack_env, up
from tally_stack.demo import utc_now_iso
from tally_stack.dsn import redact
from tally_stack.envfile import write_env_file
from tally_stack.stack import Stack, start_infrastructure, stop_infrastructure
from tally_stack.stripe_local import WEBHOOK_PATH
from tally_stack.supervisor import run_foreground


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tally_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start everything in the foreground; Ctrl-C stops it all")
    run.add_argument("--detached-child", action="store_true", help=argparse.SUPPRESS)
    commands.add_parser("up", help="start everything in the background and wait until it is ready")
    commands.add_parser("down", help="stop what `up` started")
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("TALLY_STATE_DIR", ".tally")).resolve()
    try:
        if args.command == "up":
            return up(state_dir)
        if args.command == "down":
            return down(state_dir)
        return run_stack(state_dir, detached_child=args.detached_child)
    except KeyboardInterrupt:
        return 130


def run_stack(state_dir: Path, *, detached_child: bool = False) -> int:
    # `make up`'s child leaves the file for its parent to publish once all is ready; `make run` writes it at once.
    env_file = state_dir / (PENDING_ENV_FILE if detached_child else ENV_FILE)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so a SIGTERM during start-up still cleans up
    stack = start_infrastructure(state_dir, os.environ)
    try:
        print(banner(stack), flush=True)
        write_env_file(env_file, stack_env(stack), mode=0o600)  # it holds the API key and the webhook secret
        return run_foreground(stack)
    finally:
        stop_infrastructure(stack)
        env_file.unlink(missing_ok=True)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def stripe_line(stack: Stack) -> str:
    if stack.local_stripe is None:
        return "the real one (BILLING_STRIPE_API_KEY is set)"
    return f"{stack.local_stripe.api_base} (localstripe; webhooks to {stack.gateway_url}{WEBHOOK_PATH})"


def banner(stack: Stack) -> str:
    event = (
        f'{{"events": [{{"id": "{uuid.uuid4()}", "customer_id": "acme-42", "type": "api_call", '
        f'"timestamp": "{utc_now_iso()}", "properties": {{"tokens": 120}}}}]}}'
    )
    auth = f"-H 'Authorization: Bearer {stack.api_key}'"
    return f"""
Tally
  gateway (REST API)             {stack.gateway_url}
  dashboard (web)                {stack.gateway_url}/
  usage-ingest                   {stack.ingest_url}
  API key                        {stack.api_key}
  Admin login                    {stack.admin_email} (password: TALLY_ADMIN_PASSWORD in .tally/stack.env)
  Kafka                          {stack.kafka_bootstrap}
  PostgreSQL                     {redact(stack.database_url)}
  Stripe                         {stripe_line(stack)}

Send usage:
  curl -X POST {stack.ingest_url}/v1/events/batch {auth} \\
    -H 'Content-Type: application/json' \\
    -d '{event}'
Read it back (this month, per UTC day; add &from=...&to=... for another window):
  curl {auth} '{stack.gateway_url}/v1/customers/acme-42/usage?meter=tokens'

Ctrl-C stops everything started here.
"""
