"""Schemathesis against the gateway's /openapi.json, served by a real gateway process: no 5xx (but the 503 of a
forwarded route whose service is down, as here), and every response matches the document."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from gateway.proxy.routes import ROUTES
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tally_stack.procs import free_port, serving
from tally_stack.testing import Infra

FORWARDED = {(route.method, route.path) for route in ROUTES}
EXAMPLES = 8


@pytest.fixture(scope="session")
def gateway_process(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, nowhere = free_port(), f"http://127.0.0.1:{free_port()}"
    log = tmp_path_factory.mktemp("schemathesis") / "gateway.log"
    env = os.environ | {
        "GATEWAY_DATABASE_URL": infra.database_urls["gateway"],
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "TALLY_BOOTSTRAP_API_KEY": infra.api_key,
        "TALLY_ADMIN_EMAIL": infra.admin_email,
        "TALLY_ADMIN_PASSWORD": infra.admin_password,
        "GATEWAY_API_PORT": str(port),
        "GATEWAY_STREAM_ENABLED": "false",
        "GATEWAY_RATE_LIMIT_PER_S": "10000",
        **{f"GATEWAY_{name}_URL": nowhere for name in ("BILLING", "INGEST", "ANALYTICS", "ASSISTANT")},
    }
    with Path(log).open("wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "api"], env=env, stdout=output, stderr=output)
    with serving(proc, Path(log), f"http://127.0.0.1:{port}") as url:
        yield url


@pytest.fixture(scope="session")
def gateway_schema(gateway_process: str) -> Any:
    # The live stream never ends, so it has tests of its own (test_stream.py).
    return schemathesis.openapi.from_url(f"{gateway_process}/openapi.json").exclude(path="/v1/stream")


def check_operation(operation: Any, api_key: str) -> None:
    """EXAMPLES generated calls of one operation, each response checked against the document."""
    forwarded = (operation.method.upper(), operation.path) in FORWARDED
    checks = [response_schema_conformance, content_type_conformance, status_code_conformance]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def calls(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
        case.validate_response(response, checks=checks if forwarded else [*checks, not_a_server_error])
        if forwarded and response.status_code >= 500:
            assert response.status_code == 503
            assert response.json()["detail"].endswith("service is unavailable.")

    calls()


def test_the_api_keeps_its_document(gateway_schema: Any, infra: Infra) -> None:
    operations = [result.ok() for result in gateway_schema.get_all_operations()]
    assert len(operations) > 60
    for operation in operations:
        check_operation(operation, infra.api_key)
