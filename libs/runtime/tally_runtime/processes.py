"""Several processes serving one port, each accepting on a listening socket of its own (SO_REUSEPORT): Linux hands
each new connection to one of them by a hash of its addresses. With one shared socket, as uvicorn's `workers` have,
whichever process wakes first accepts a whole burst of keep-alive connections; in the ingest bench one of two
processes at times served every request while the other idled, and the rate halved."""

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.context import SpawnProcess

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)
_spawn = multiprocessing.get_context("spawn")
_POLL_S = 0.5


def serve_processes(factory: str, host: str, port: int, processes: int) -> None:
    """Serves the app that `factory` ("module:function") builds from `processes` processes on host:port, until
    SIGTERM or SIGINT. A process that dies is replaced; one that could not start stops them all, and this process
    exits with uvicorn's start-up failure code."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    children = [_start(factory, host, port) for _ in range(processes)]
    try:
        while not stopping.wait(_POLL_S):
            for index, child in enumerate(children):
                if child.is_alive():
                    continue
                if child.exitcode == STARTUP_FAILURE:
                    log.error("process %s could not start; stopping", child.pid)
                    raise SystemExit(STARTUP_FAILURE)
                log.warning("process %s ended (exit code %s); starting another", child.pid, child.exitcode)
                children[index] = _start(factory, host, port)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join()


def _start(factory: str, host: str, port: int) -> SpawnProcess:
    child = _spawn.Process(target=_serve, args=(factory, host, port))
    child.start()
    return child


def _serve(factory: str, host: str, port: int) -> None:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family, reuse_port=True)
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(factory, factory=True, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
