"""localstripe (PyPI, GPL): a stateful fake Stripe API for tests and for `make run`, always run as a process of
its own and never imported here. The official `stripe` SDK reaches it through `base_addresses={"api": api_base}`.

What it does, from its source (1.15.10):
- listens on every interface (`::`, IPv4 too) on `--port`, and takes any `sk_...` key as a Bearer token;
- keeps its objects in memory, and pickles them to /tmp/localstripe.pickle after every change, a path shared by
  every instance on the machine: we start it with `--from-scratch` so that it never loads that file;
- `POST /_config/webhooks/{name}` (url, secret, events) registers, or replaces, a webhook: about a second after
  each event it POSTs the event to the URL, signed like Stripe (`Stripe-Signature: t=<created>,v1=<hmac-sha256>`),
  once, with no retry; a webhook cannot be removed, only narrowed (`events=[]` silences it);
- `DELETE /_config/data` forgets every object.
"""

import hashlib
import hmac
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tally_stack.procs import free_port, port_is_free, ready_or_stopped, spawn_logged, stop_process

TEST_API_KEY = "sk_test_tally_localstripe"  # localstripe takes any sk_ key; this one names where it came from
DEFAULT_PORT = 8420  # localstripe's own default
READY_TIMEOUT = 30.0
WEBHOOK_PATH = "/v1/webhooks/stripe"  # the gateway's public route, forwarded to billing
STACK_WEBHOOK = "tally-gateway"  # the name of the webhook `make run` registers
LOG_FILE = "localstripe.log"

# What billing reads (its settings have the prefix BILLING_).
API_KEY_VAR = "BILLING_STRIPE_API_KEY"
API_BASE_VAR = "BILLING_STRIPE_API_BASE"
WEBHOOK_SECRETS_VAR = "BILLING_STRIPE_WEBHOOK_SECRETS"
COLLECTION_VAR = "BILLING_STRIPE_COLLECTION"


@dataclass(frozen=True)
class LocalStripe:
    api_base: str  # http://127.0.0.1:<port>, the SDK's base address "api"
    api_key: str
    webhook_secret: str  # whsec_...: what our webhooks are registered (and so signed) with


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def start_localstripe(port: int, log_path: Path, timeout: float = READY_TIMEOUT) -> subprocess.Popen[bytes]:
    """Start localstripe on `port` in its own process group, with an empty store, and wait until it answers an
    authenticated `GET /v1/customers`. Stop it with tally_stack.procs.stop_process."""
    if not port_is_free(port):
        raise RuntimeError(f"cannot start localstripe: port {port} on 127.0.0.1 is in use")
    command = [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"]
    proc = spawn_logged(command, log_path)
    return ready_or_stopped(
        proc, log_path, lambda: wait_for_localstripe(f"http://127.0.0.1:{port}", timeout, proc=proc)
    )


def wait_for_localstripe(
    api_base: str, seconds: float = READY_TIMEOUT, *, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once `GET /v1/customers` with the test key answers 200; raise after `seconds`, or as soon as `proc`
    (the localstripe we started, if any) exits."""
    deadline = time.monotonic() + seconds
    last_error = "no attempt made"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"localstripe exited with code {proc.returncode} while starting")
        try:
            response = httpx.get(
                f"{api_base}/v1/customers", params={"limit": 1}, headers=_bearer(TEST_API_KEY), timeout=2.0
            )
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    raise RuntimeError(f"localstripe at {api_base} did not answer within {seconds:.0f} s ({last_error})")


def register_webhook(
    api_base: str, name: str, url: str, secret: str, events: Sequence[str] | None = None, *, timeout: float = 5.0
) -> None:
    """Have localstripe POST every event (or only those of the types in `events`) to `url`, signed with `secret`.
    Registering `name` again replaces it; `events=[]` silences it."""
    body: dict[str, object] = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = list(events)
    response = httpx.post(f"{api_base}/_config/webhooks/{name}", json=body, timeout=timeout)
    if response.status_code != 200:
        raise RuntimeError(f"localstripe refused webhook {name!r} for {url}: HTTP {response.status_code}")


def billing_env(stripe: LocalStripe) -> dict[str, str]:
    """The variables that point billing at `stripe` (one webhook secret: the list holds just it). Invoices are
    collected by PaymentIntent: localstripe cannot finalize an invoice it did not make for a subscription."""
    return {
        API_KEY_VAR: stripe.api_key,
        API_BASE_VAR: stripe.api_base,
        WEBHOOK_SECRETS_VAR: stripe.webhook_secret,
        COLLECTION_VAR: "payment_intent",
    }


def real_stripe_key(env: Mapping[str, str]) -> bool:
    """Whether `env` names a Stripe key of its own (not empty, not localstripe's)."""
    return (env.get(API_KEY_VAR) or TEST_API_KEY) != TEST_API_KEY


def start_stack_stripe(
    state_dir: Path, env: Mapping[str, str], gateway_url: str, port: int = DEFAULT_PORT
) -> tuple[LocalStripe | None, subprocess.Popen[bytes] | None]:
    """For `make run`: nothing when BILLING_STRIPE_API_KEY is set in `env` (billing inherits the real settings);
    else localstripe on `port` (or any free port when that one is taken), logging to state_dir/localstripe.log,
    with a webhook to the gateway's Stripe route signed by a new secret. Our own test key does not count as set:
    it is in the environment of a shell that sourced an earlier stack.env, and names a localstripe long gone."""
    if real_stripe_key(env):
        return None, None
    port = port if port_is_free(port) else free_port()
    proc = start_localstripe(port, state_dir / LOG_FILE)
    stripe = LocalStripe(f"http://127.0.0.1:{port}", TEST_API_KEY, new_webhook_secret())
    try:
        register_webhook(stripe.api_base, STACK_WEBHOOK, gateway_url + WEBHOOK_PATH, stripe.webhook_secret)
    except BaseException:
        stop_process(proc)
        raise
    return stripe, proc


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def signed_headers(payload: bytes, secret: str, at: int | None = None) -> dict[str, str]:
    """Headers as Stripe sends a webhook: `t=<unix time>,v1=<hex hmac-sha256 of "<t>.<payload>">` (for tests that
    deliver events localstripe does not send, or forge and replay them)."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), b"%d.%s" % (stamp, payload), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={stamp},v1={digest}"}
