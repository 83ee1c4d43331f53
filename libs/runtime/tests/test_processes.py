import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from tally_stack.procs import free_port
from tally_stack.testing import listening_sockets, spawned_processes

CONNECTIONS = 64


def start(port: int, processes: int) -> subprocess.Popen[bytes]:
    serve = f"serve_processes('pid_app:pid_app', '127.0.0.1', {port}, {processes})"
    code = f"from tally_runtime.processes import serve_processes; {serve}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    return subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)


def served_by(connection: socket.socket) -> int:
    connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    response = b""
    while b"\r\n\r\n" not in response or not response.split(b"\r\n\r\n", 1)[1]:
        response += connection.recv(4096)
    return int(response.split(b"\r\n\r\n", 1)[1])


def wait_serving(port: int, parent: subprocess.Popen[bytes], processes: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert parent.poll() is None, "the supervisor ended"
        listening = [child for child in spawned_processes(parent.pid) if child.net_connections("tcp")]
        if len(listening) == processes:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    served_by(connection)
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError("not serving after 30 s")


@pytest.fixture
def two_processes() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    parent = start(port, 2)
    try:
        wait_serving(port, parent, 2)
        yield port, parent
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait()


def test_connections_opened_in_a_burst_are_spread_over_the_processes(
    two_processes: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, parent = two_processes
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNECTIONS)]
    try:
        served = Counter(served_by(connection) for connection in connections)
    finally:
        for connection in connections:
            connection.close()
    assert set(served) == {child.pid for child in spawned_processes(parent.pid)}
    assert min(served.values()) >= CONNECTIONS // 8  # each a share, by a hash of the addresses
    # a socket of its own each (uvicorn's workers share one: the same burst spread 40/24 over them, when idle)
    assert len(listening_sockets(port)) == 2


def test_a_process_that_dies_is_replaced_and_sigterm_stops_them_all(
    two_processes: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, parent = two_processes
    first, second = spawned_processes(parent.pid)
    first.kill()
    deadline = time.monotonic() + 30
    while {child.pid for child in spawned_processes(parent.pid)} - {first.pid, second.pid} == set():
        assert time.monotonic() < deadline, "no process replaced the killed one"
        time.sleep(0.1)
    wait_serving(port, parent, 2)
    children = spawned_processes(parent.pid)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 0
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]


def test_processes_that_cannot_listen_stop_the_supervisor() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:  # without SO_REUSEPORT: nobody can join it
        parent = start(taken.getsockname()[1], 2)
        try:
            assert parent.wait(timeout=60) == 3  # uvicorn's start-up failure
        finally:
            if parent.poll() is None:
                os.killpg(parent.pid, signal.SIGKILL)
                parent.wait()
