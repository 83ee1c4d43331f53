"""Small process and port helpers shared by the broker, PostgreSQL and the CLI."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen there now (connections of a stopped server in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Ask `proc` to stop with `sig`, wait `timeout` seconds, then SIGKILL it. When it leads a process group of
    its own (we started it with start_new_session), the whole group gets each signal, so the processes it spawned
    (a service's several processes, say) stop with it. Touches nothing but that PID and its group."""
    if proc.poll() is not None:
        return
    group = os.getpgid(proc.pid) == proc.pid
    send_signal(proc, sig, group=group)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        send_signal(proc, signal.SIGKILL, group=group)
        proc.wait(timeout)
    if group:
        send_signal(proc, signal.SIGKILL, group=True)  # any member that outlived its leader


def send_signal(proc: subprocess.Popen[bytes], sig: int, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def spawn_logged(command: list[str], log_path: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """Start a server in its own session (so Ctrl-C reaches it only through us), appending its output to a log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )


def ready_or_stopped(
    proc: subprocess.Popen[bytes], log_path: Path, wait: Callable[[], object]
) -> subprocess.Popen[bytes]:
    """`proc` once `wait()` returns; if it raises (or is interrupted), the process is stopped first, and an error
    carries the tail of its log."""
    try:
        wait()
    except BaseException as exc:
        stop_process(proc)
        if isinstance(exc, Exception):
            raise RuntimeError(f"{exc}\n--- {log_path} (tail) ---\n{log_tail(log_path)}") from exc
        raise
    return proc


def answers_ready(base_url: str) -> bool:
    """Whether the process at `base_url` answers /readyz with 200 (any failure to connect: not yet)."""
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def until_ready(proc: subprocess.Popen[bytes], base_url: str, timeout_s: float = 60.0) -> Callable[[], None]:
    """For `ready_or_stopped`: wait until `base_url` is ready; fail when `proc` exits first or time runs out."""

    def wait() -> None:
        deadline = time.monotonic() + timeout_s
        while not answers_ready(base_url):
            if proc.poll() is not None:
                raise RuntimeError(f"{base_url} exited with code {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base_url} was not ready within {timeout_s:.0f} s")
            time.sleep(0.2)

    return wait


@contextlib.contextmanager
def serving(proc: subprocess.Popen[bytes], log_path: Path, base_url: str) -> Iterator[str]:
    """`base_url` once `proc` is ready there (see `ready_or_stopped`); `proc` is stopped on leaving."""
    ready_or_stopped(proc, log_path, until_ready(proc, base_url))
    try:
        yield base_url
    finally:
        stop_process(proc)
