"""Small process and port helpers shared by the broker, PostgreSQL and the CLI."""

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    (uvicorn's workers, say) stop with it. Touches nothing but that PID and its group."""
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
