"""An S3 server on loopback (moto's), so that Tansu can keep its data across a restart in tests."""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx

from tally_stack.procs import free_port, ready_or_stopped, spawn_logged

BUCKET = "tansu"
REGION = "eu-west-2"
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3:
    proc: subprocess.Popen[bytes]
    endpoint: str

    @property
    def storage(self) -> str:
        return f"s3://{BUCKET}/"

    @property
    def broker_env(self) -> dict[str, str]:
        """What Tansu needs to reach it (moto accepts any credentials)."""
        return {
            "AWS_ACCESS_KEY_ID": "tally-test",
            "AWS_SECRET_ACCESS_KEY": "tally-test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }


def start_s3(log_path: Path) -> S3:
    """moto's S3 server on a free loopback port, with the broker's bucket made; stopped again if either fails."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = spawn_logged([str(moto), "-H", "127.0.0.1", "-p", str(port)], log_path)
    s3 = S3(proc, f"http://127.0.0.1:{port}")
    ready_or_stopped(proc, log_path, lambda: _make_bucket(s3))
    return s3


def _make_bucket(s3: S3) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            httpx.get(s3.endpoint, timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or s3.proc.poll() is not None:
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.2)
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=REGION,
        aws_access_key_id="tally-test",
        aws_secret_access_key="tally-test",
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
