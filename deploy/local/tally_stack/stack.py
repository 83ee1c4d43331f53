"""The infrastructure of a local stack: broker, PostgreSQL, localstripe, database roles, topics and secrets."""

import asyncio
import secrets
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from contracts.topics import TOPICS
from tally_cli.topics import create_topics

from tally_stack.bootstrap import bootstrap_database
from tally_stack.broker import start_broker, wait_for_kafka
from tally_stack.envfile import read_env_file, write_env_file
from tally_stack.postgres import ensure_postgres
from tally_stack.procs import free_port, port_is_free, stop_process
from tally_stack.services import SCHEMAS, get_service
from tally_stack.stripe_local import LocalStripe, start_stack_stripe

DATABASE = "tally"
KAFKA_PORT = 9092
API_KEY_VAR = "TALLY_BOOTSTRAP_API_KEY"
ADMIN_EMAIL_VAR = "TALLY_ADMIN_EMAIL"
ADMIN_PASSWORD_VAR = "TALLY_ADMIN_PASSWORD"
DEFAULT_ADMIN_EMAIL = "admin@example.com"


@dataclass
class Stack:
    kafka_bootstrap: str
    database_url: str  # the admin (superuser) URL of the server; libpq style
    database_urls: dict[str, str]  # schema -> postgresql+asyncpg:// URL of that service's own role
    api_key: str
    gateway_url: str
    ingest_url: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)  # what we started, in order
    local_stripe: LocalStripe | None = None  # None: billing takes a real Stripe's settings from the environment
    admin_email: str = DEFAULT_ADMIN_EMAIL  # the gateway's first admin
    admin_password: str = ""


def password_var(schema: str) -> str:
    return f"TALLY_{schema.upper()}_DB_PASSWORD"


def _new_api_key() -> str:
    return "tk_" + secrets.token_urlsafe(24)


def _new_password() -> str:
    return secrets.token_urlsafe(24)


SECRETS = {
    API_KEY_VAR: _new_api_key,
    ADMIN_EMAIL_VAR: lambda: DEFAULT_ADMIN_EMAIL,
    ADMIN_PASSWORD_VAR: _new_password,
} | {password_var(schema): _new_password for schema in SCHEMAS}


def load_secrets(state_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The API key, the first admin's email and password, and every role's password: from `env` if set there, else
    from state_dir/secrets.env, else generated and saved there (mode 0600) so that the next run reuses them."""
    path = state_dir / "secrets.env"
    saved = read_env_file(path)
    generated = {key: new() for key, new in SECRETS.items() if key not in saved and not env.get(key)}
    if generated:
        saved.update(generated)
        write_env_file(path, saved, mode=0o600)
    return saved | {key: env[key] for key in SECRETS if env.get(key)}


def start_infrastructure(state_dir: Path, env: Mapping[str, str]) -> Stack:
    """Start (or reuse) PostgreSQL and Kafka, bootstrap database `tally`, create the topics, and start localstripe
    with a webhook to the gateway. KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL in `env` point at existing servers instead
    of embedded ones; BILLING_STRIPE_API_KEY at a real Stripe (then no localstripe is started).
    On any failure, whatever this call started is stopped again."""
    state_dir.mkdir(parents=True, exist_ok=True)
    found = load_secrets(state_dir, env)
    stack = Stack(
        kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", ""),
        database_url="",
        database_urls={},
        api_key=found[API_KEY_VAR],
        gateway_url=get_service("gateway").api_url,
        ingest_url=get_service("usage-ingest").api_url,
        admin_email=found[ADMIN_EMAIL_VAR],
        admin_password=found[ADMIN_PASSWORD_VAR],
    )
    try:
        postgres = ensure_postgres(env.get("DATABASE_URL"), state_dir / "postgres")
        stack.database_url = postgres.admin_url
        if postgres.proc is not None:
            stack.procs.append(postgres.proc)
        if stack.kafka_bootstrap:
            asyncio.run(wait_for_kafka(stack.kafka_bootstrap))
        else:
            port = KAFKA_PORT if port_is_free(KAFKA_PORT) else free_port()
            stack.procs.append(start_broker(port, state_dir / "broker.log"))
            stack.kafka_bootstrap = f"127.0.0.1:{port}"
        stack.local_stripe, stripe_proc = start_stack_stripe(state_dir, env, stack.gateway_url)
        if stripe_proc is not None:
            stack.procs.append(stripe_proc)
        passwords = {schema: found[password_var(schema)] for schema in SCHEMAS}
        stack.database_urls = asyncio.run(_prepare(stack, passwords))
    except BaseException:
        stop_infrastructure(stack)
        raise
    return stack


async def _prepare(stack: Stack, passwords: dict[str, str]) -> dict[str, str]:
    urls = await bootstrap_database(stack.database_url, DATABASE, list(SCHEMAS), passwords)
    await create_topics(stack.kafka_bootstrap, TOPICS)
    return urls


def stop_infrastructure(stack: Stack) -> None:
    """Stop what start_infrastructure started, last first. Servers we did not start are left alone."""
    while stack.procs:
        # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave); Tansu
        # exits cleanly on either.
        stop_process(stack.procs.pop(), signal.SIGINT)
