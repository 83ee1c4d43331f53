"""`python -m <service> api|worker`: the two processes every service image runs."""

import argparse
import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from faststream.asgi import AsgiFastStream
from uvicorn.importer import import_from_string

from tally_runtime.logs import configure_logging
from tally_runtime.metrics import MULTIPROCESS_DIR
from tally_runtime.processes import serve_processes
from tally_runtime.settings import ServiceSettings
from tally_runtime.tracing import configure_tracing
from tally_runtime.worker import serve

_FACTORY = "TALLY_API_FACTORY"
_PROCESS = "TALLY_PROCESS_NAME"


def _prepare(process_name: str, settings: ServiceSettings) -> None:
    configure_logging(process_name, settings.log_level)
    configure_tracing(process_name.split(".", maxsplit=1)[0], settings.otlp_endpoint)
    _tune_gc()


def _tune_gc() -> None:
    """Every event allocates short-lived objects; at CPython's default threshold (700) a busy consumer spent a
    fifth of its time in the cyclic collector. Keep what start-up allocated out of it, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


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
    _prepare(f"{name}.{process}", settings)
    app: Callable[[], object]
    if process == "worker" and worker is not None:
        app, port, processes = worker, settings.worker_port, settings.worker_processes
    else:
        app, port, processes = api, settings.api_port, settings.api_workers
    if processes == 1:
        serve(app(), settings.api_host, port)
        return
    # Several processes share the port; each builds its app through `spawned_app`.
    os.environ[_FACTORY] = f"{app.__module__}:{app.__name__}"
    os.environ[_PROCESS] = f"{name}.{process}"
    with shared_metrics(name):
        serve_processes("tally_runtime.cli:spawned_app", settings.api_host, port, processes)


@contextmanager
def shared_metrics(name: str) -> Iterator[None]:
    """The directory the processes sharing a port write their metrics to (see `tally_runtime.metrics`): the one
    ops named in PROMETHEUS_MULTIPROC_DIR, or a fresh one, removed when the processes have stopped. The processes
    are spawned, so they read the variable when they first import prometheus_client."""
    if MULTIPROCESS_DIR in os.environ:
        yield
        return
    directory = tempfile.mkdtemp(prefix=f"tally-{name}-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


def spawned_app() -> object:
    """The app of one of several processes sharing a port, api or worker (each process imports this). Logging and
    tracing take only the settings shared by every service, and come first: the app instruments itself only when
    tracing records."""
    _prepare(os.environ[_PROCESS], ServiceSettings())
    factory: Callable[[], object] = import_from_string(os.environ[_FACTORY])
    return factory()
