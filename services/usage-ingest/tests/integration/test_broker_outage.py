"""When the broker goes away, ingest answers 503 with Retry-After instead of accepting what it cannot keep."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from contracts.topics import TOPICS
from tally_cli.topics import create_topics
from tally_stack.broker import start_broker
from tally_stack.procs import free_port, stop_process
from tally_stack.testing import Infra, serving
from usage_ingest.app import create_app
from usage_ingest.config import IngestSettings


@pytest.fixture
def lone_broker(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A broker of this test's own, to take away."""
    port = free_port()
    broker = start_broker(port, tmp_path / "broker.log")
    yield port, broker
    stop_process(broker)


async def test_503_with_retry_after_when_the_broker_is_gone(
    infra: Infra, lone_broker: tuple[int, subprocess.Popen[bytes]]
) -> None:
    port, broker = lone_broker
    await create_topics(f"127.0.0.1:{port}", TOPICS)
    settings = IngestSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}", bootstrap_api_key=infra.api_key, publish_timeout_s=2
    )
    async with serving(create_app(settings), "http://ingest", api_key=infra.api_key, shutdown_timeout=30) as client:
        body = {"events": [{"id": "1", "customer_id": "acme", "type": "api_call"}]}
        assert (await client.post("/v1/events/batch", json=body)).status_code == 202
        stop_process(broker)
        response = await client.post("/v1/events/batch", json=body)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert (await client.get("/readyz")).status_code == 503
