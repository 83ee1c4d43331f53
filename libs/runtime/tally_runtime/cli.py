"""`python -m <service> api|worker`: the two processes every service image runs."""

import argparse
from collections.abc import Callable

from fastapi import FastAPI
from faststream.asgi import AsgiFastStream

from tally_runtime.logs import configure_logging
from tally_runtime.settings import ServiceSettings
from tally_runtime.tracing import configure_tracing
from tally_runtime.worker import serve


def run_service(
    name: str,
    settings: ServiceSettings,
    *,
    api: Callable[[], FastAPI],
    worker: Callable[[], AsgiFastStream] | None = None,
    argv: list[str] | None = None,
) -> None:
    choices = ["api", "worker"] if worker else ["api"]
    parser = argparse.ArgumentParser(prog=f"python -m {name}")
    parser.add_argument("process", choices=choices)
    process = parser.parse_args(argv).process
    configure_logging(f"{name}.{process}", settings.log_level)
    configure_tracing(name, settings.otlp_endpoint)
    if process == "api":
        serve(api(), settings.api_host, settings.api_port)
    elif worker is not None:
        serve(worker(), settings.api_host, settings.worker_port)
