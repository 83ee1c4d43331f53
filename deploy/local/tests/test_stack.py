import asyncio
import stat
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from contracts.topics import all_topic_names
from tally_stack.daemon import stack_env
from tally_stack.dsn import libpq_url, with_database
from tally_stack.envfile import read_env_file
from tally_stack.postgres import Postgres
from tally_stack.services import SCHEMAS
from tally_stack.stack import (
    ADMIN_EMAIL_VAR,
    ADMIN_PASSWORD_VAR,
    API_KEY_VAR,
    load_secrets,
    password_var,
    start_infrastructure,
    stop_infrastructure,
)
from tally_stack.stripe_local import wait_for_localstripe


def test_secrets_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_secrets(tmp_path, {})
    assert first[API_KEY_VAR].startswith("tk_") and len(first[API_KEY_VAR]) > 30
    assert all(len(first[password_var(schema)]) > 30 for schema in SCHEMAS)
    assert len(first[ADMIN_PASSWORD_VAR]) >= 12
    assert "@" in first[ADMIN_EMAIL_VAR]
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
    assert load_secrets(tmp_path, {}) == first


def test_secrets_from_the_environment_win_and_are_not_saved(tmp_path: Path) -> None:
    secrets = load_secrets(tmp_path, {API_KEY_VAR: "tk_mine", ADMIN_PASSWORD_VAR: "my-own-admin-password"})
    assert (secrets[API_KEY_VAR], secrets[ADMIN_PASSWORD_VAR]) == ("tk_mine", "my-own-admin-password")
    saved = read_env_file(tmp_path / "secrets.env")
    assert API_KEY_VAR not in saved
    assert set(saved) == {password_var(schema) for schema in SCHEMAS} | {ADMIN_EMAIL_VAR}


async def _topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def _current_user(url: str) -> str:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        return str(await conn.fetchval("SELECT current_user || '@' || current_database()"))
    finally:
        await conn.close()


def test_start_and_stop_infrastructure(tmp_path: Path, private_postgres: Postgres) -> None:
    env = {"DATABASE_URL": private_postgres.admin_url}
    stack = start_infrastructure(tmp_path, env)
    try:
        assert stack.database_url == private_postgres.admin_url
        assert stack.api_key == load_secrets(tmp_path, {})[API_KEY_VAR]
        assert (stack.gateway_url, stack.ingest_url) == ("http://127.0.0.1:8000", "http://127.0.0.1:8001")
        [broker, localstripe] = stack.procs  # PostgreSQL was given, so only the broker and localstripe
        assert broker.poll() is None and localstripe.poll() is None
        assert stack.local_stripe is not None
        wait_for_localstripe(stack.local_stripe.api_base, 1)
        assert stack_env(stack)["BILLING_STRIPE_API_BASE"] == stack.local_stripe.api_base
        assert set(all_topic_names()) <= set(asyncio.run(_topics(stack.kafka_bootstrap)))
        for schema in SCHEMAS:
            assert asyncio.run(_current_user(stack.database_urls[schema])) == f"tally_{schema}@tally"
        assert stack_env(stack)["DATABASE_URL"] == with_database(private_postgres.admin_url, "tally")

        # With KAFKA_BOOTSTRAP_SERVERS and a Stripe key set, nothing is started, and stopping leaves that broker
        # alone.
        given = {"KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "BILLING_STRIPE_API_KEY": "sk_test_real_account"}
        again = start_infrastructure(tmp_path, env | given)
        assert (again.procs, again.local_stripe) == ([], None)
        assert (again.api_key, again.database_urls) == (stack.api_key, stack.database_urls)
        stop_infrastructure(again)
        assert broker.poll() is None
    finally:
        stop_infrastructure(stack)
    assert stack.procs == []
    assert broker.returncode is not None and localstripe.returncode is not None
