import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from tally_stack.cli import banner
from tally_stack.daemon import stack_env
from tally_stack.envfile import read_env_file, write_env_file
from tally_stack.services import SCHEMAS, SERVICES, get_service, service_env
from tally_stack.stack import Stack
from tally_stack.stripe_local import TEST_API_KEY, LocalStripe
from tally_stack.supervisor import ProcessSpec, child_env, process_table


@pytest.fixture
def stack() -> Stack:
    return Stack(
        kafka_bootstrap="127.0.0.1:19092",
        database_url="postgresql://postgres@127.0.0.1:5432/postgres",
        database_urls={s: f"postgresql+asyncpg://tally_{s}:pw-{s}@127.0.0.1:5432/tally" for s in SCHEMAS},
        api_key="tk_test",
        gateway_url="http://127.0.0.1:8000",
        ingest_url="http://127.0.0.1:8001",
    )


def test_registry() -> None:
    assert [(s.name, s.package, s.api_port, s.worker_port, s.schema) for s in SERVICES] == [
        ("usage-ingest", "usage_ingest", 8001, None, None),
        ("billing", "billing", 8002, 9002, "billing"),
        ("analytics", "analytics", 8003, 9003, "analytics"),
        ("assistant", "assistant", 8004, None, "assistant"),
        ("gateway", "gateway", 8000, 9000, "gateway"),
    ]
    ports = [p for s in SERVICES for p in (s.api_port, s.worker_port) if p is not None]
    assert len(ports) == len(set(ports))
    assert SCHEMAS == ("billing", "analytics", "assistant", "gateway")


def test_commands_run_the_package_with_this_interpreter() -> None:
    billing = get_service("billing")
    assert billing.roles == ("api", "worker")
    assert billing.command("worker") == [sys.executable, "-m", "billing", "worker"]
    assert get_service("usage-ingest").roles == ("api",)
    with pytest.raises(KeyError):
        get_service("nope")


def test_billing_env(stack: Stack) -> None:
    assert service_env(get_service("billing"), stack) == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "TALLY_BOOTSTRAP_API_KEY": "tk_test",
        "BILLING_API_PORT": "8002",
        "BILLING_WORKER_PORT": "9002",
        "BILLING_DATABASE_URL": "postgresql+asyncpg://tally_billing:pw-billing@127.0.0.1:5432/tally",
    }


LOCAL_STRIPE = LocalStripe("http://127.0.0.1:8420", TEST_API_KEY, "whsec_local")
STRIPE_ENV = {
    "BILLING_STRIPE_API_KEY": TEST_API_KEY,
    "BILLING_STRIPE_API_BASE": "http://127.0.0.1:8420",
    "BILLING_STRIPE_WEBHOOK_SECRETS": "whsec_local",
    "BILLING_STRIPE_COLLECTION": "payment_intent",
}


def test_billing_alone_is_pointed_at_the_stacks_localstripe(stack: Stack) -> None:
    with_stripe = replace(stack, local_stripe=LOCAL_STRIPE)
    assert service_env(get_service("billing"), with_stripe) == service_env(get_service("billing"), stack) | STRIPE_ENV
    for service in SERVICES:
        if service.name != "billing":
            assert service_env(service, with_stripe) == service_env(service, stack)
    billing_api = next(spec for spec in process_table(with_stripe) if spec.name == "billing.api")
    env = child_env(billing_api, {"BILLING_STRIPE_API_BASE": "http://stale:1"})
    assert {key: env[key] for key in STRIPE_ENV} == STRIPE_ENV


def test_without_localstripe_billing_inherits_a_real_stripe(stack: Stack) -> None:
    assert stack.local_stripe is None
    billing_api = next(spec for spec in process_table(stack) if spec.name == "billing.api")
    assert not any(key.startswith("BILLING_STRIPE_") for key in billing_api.env)
    env = child_env(billing_api, {"BILLING_STRIPE_API_KEY": "sk_live_x", "BILLING_STRIPE_WEBHOOK_SECRETS": "whsec_x"})
    assert (env["BILLING_STRIPE_API_KEY"], env["BILLING_STRIPE_WEBHOOK_SECRETS"]) == ("sk_live_x", "whsec_x")
    assert not any(key.startswith("BILLING_STRIPE_") for key in stack_env(stack))
    assert "the real one" in banner(stack)


def test_stack_env_file_holds_the_localstripe_settings(stack: Stack, tmp_path: Path) -> None:
    """What `make up` writes to .tally/stack.env: a shell or a billing process started by hand gets them too."""
    with_stripe = replace(stack, local_stripe=LOCAL_STRIPE)
    write_env_file(tmp_path / "stack.env", stack_env(with_stripe))
    written = read_env_file(tmp_path / "stack.env")
    assert {key: written[key] for key in STRIPE_ENV} == STRIPE_ENV
    assert written["TALLY_GATEWAY_URL"] == stack.gateway_url
    assert "http://127.0.0.1:8420 (localstripe; webhooks to http://127.0.0.1:8000/v1/webhooks/stripe)" in banner(
        with_stripe
    )


def test_stateless_service_gets_no_database(stack: Stack) -> None:
    env = service_env(get_service("usage-ingest"), stack)
    assert env == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "TALLY_BOOTSTRAP_API_KEY": "tk_test",
        "USAGE_INGEST_API_PORT": "8001",
    }


def test_gateway_env_names_its_upstreams(stack: Stack) -> None:
    env = service_env(get_service("gateway"), stack)
    assert env["GATEWAY_DATABASE_URL"] == stack.database_urls["gateway"]
    assert env["GATEWAY_API_PORT"] == "8000"
    assert env["GATEWAY_WORKER_PORT"] == "9000"
    assert {key: value for key, value in env.items() if key.endswith("_URL") and "DATABASE" not in key} == {
        "GATEWAY_BILLING_URL": "http://127.0.0.1:8002",
        "GATEWAY_INGEST_URL": "http://127.0.0.1:8001",
        "GATEWAY_ANALYTICS_URL": "http://127.0.0.1:8003",
        "GATEWAY_ASSISTANT_URL": "http://127.0.0.1:8004",
    }


def test_each_service_sees_only_its_own_database(stack: Stack) -> None:
    for service in SERVICES:
        urls = {v for k, v in service_env(service, stack).items() if k.endswith("_DATABASE_URL")}
        assert urls == ({stack.database_urls[service.schema]} if service.schema else set())


def test_process_table(stack: Stack) -> None:
    table = process_table(stack)
    assert [p.name for p in table] == [
        "usage-ingest.api",
        "billing.api",
        "billing.worker",
        "analytics.api",
        "analytics.worker",
        "assistant.api",
        "gateway.api",
        "gateway.worker",
        "demo",
    ]
    billing_worker = next(spec for spec in table if spec.name == "billing.worker")
    seed, worker = billing_worker.command[2].split("; exec ")
    assert billing_worker.command[:2] == ["sh", "-c"]
    assert shlex.split(seed)[1:3] == ["-m", "billing.demo"] and shlex.split(worker)[1:] == ["-m", "billing", "worker"]
    assert table[-1] == ProcessSpec(
        "demo",
        [sys.executable, "-m", "tally_stack.demo"],
        {"TALLY_GATEWAY_URL": stack.gateway_url, "TALLY_INGEST_URL": stack.ingest_url, "TALLY_API_KEY": "tk_test"},
    )


def test_child_env_withholds_the_superuser_url(stack: Stack) -> None:
    spec = process_table(stack)[1]
    env = child_env(spec, {"PATH": "/usr/bin", "DATABASE_URL": "postgresql://postgres@db/postgres"})
    assert "DATABASE_URL" not in env
    assert env["PATH"] == "/usr/bin"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["BILLING_DATABASE_URL"] == stack.database_urls["billing"]


def test_the_gateway_and_stack_env_get_the_first_admin(stack: Stack, tmp_path: Path) -> None:
    """`make run` / `make up`: the gateway starts with the first admin's credentials, and stack.env holds them."""
    admin = replace(stack, admin_email="ops@example.com", admin_password="a-generated-password")
    env = service_env(get_service("gateway"), admin)
    assert (env["TALLY_ADMIN_EMAIL"], env["TALLY_ADMIN_PASSWORD"]) == ("ops@example.com", "a-generated-password")
    assert "TALLY_ADMIN_PASSWORD" not in service_env(get_service("billing"), admin)
    written = stack_env(admin)
    assert (written["TALLY_ADMIN_EMAIL"], written["TALLY_ADMIN_PASSWORD"]) == (
        "ops@example.com",
        "a-generated-password",
    )
    assert "ops@example.com" in banner(admin)
    assert "a-generated-password" not in banner(admin)
