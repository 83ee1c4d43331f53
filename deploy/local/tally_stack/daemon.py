"""`up` and `down`: the stack as a background process, tracked by files in the state directory."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tally_stack.dsn import libpq_url, with_database
from tally_stack.envfile import read_env_file
from tally_stack.procs import answers_ready, log_tail
from tally_stack.services import HOST, SERVICES
from tally_stack.stack import DATABASE, Stack
from tally_stack.stripe_local import billing_env

PID_FILE = "stack.pid"
ENV_FILE = "stack.env"
PENDING_ENV_FILE = "stack.env.pending"  # written by the child once its infrastructure is up
LOG_FILE = "stack.log"
UP_TIMEOUT = 600.0  # the first start writes two years of demo history before billing's worker is ready
DOWN_TIMEOUT = 60.0


def stack_env(stack: Stack) -> dict[str, str]:
    """What a shell, a test or a script needs to reach the running stack; with localstripe, also the settings that
    point a billing process at it (a real Stripe key given in the environment is never written here)."""
    env = {
        "TALLY_GATEWAY_URL": stack.gateway_url,
        "TALLY_INGEST_URL": stack.ingest_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": with_database(libpq_url(stack.database_url), DATABASE),
        "TALLY_API_KEY": stack.api_key,
        "TALLY_ADMIN_EMAIL": stack.admin_email,
        "TALLY_ADMIN_PASSWORD": stack.admin_password,
    }
    if stack.local_stripe is not None:
        env.update(billing_env(stack.local_stripe))
    return env


def up(state_dir: Path, timeout: float = UP_TIMEOUT) -> int:
    """Start `run --detached-child` in its own session, wait until the gateway and usage-ingest are
    ready, then write stack.env. On failure, print the log's tail and stop the child."""
    pid = running_pid(state_dir)
    if pid is not None:
        print(f"Tally is already running (pid {pid}); see {state_dir / ENV_FILE}.")
        return 0
    _remove_state(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    with log_path.open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tally_stack", "run", "--detached-child"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "TALLY_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"},
        )
    (state_dir / PID_FILE).write_text(f"{child.pid}\n")
    print(f"Starting Tally (pid {child.pid}, log {log_path}) ...", flush=True)
    problem = _wait_until_ready(child, state_dir, timeout)
    if problem is not None:
        print(f"Tally did not come up: {problem}\n--- {log_path} (tail) ---\n{log_tail(log_path, 40)}")
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(DOWN_TIMEOUT)
        if child.poll() is not None:
            _remove_state(state_dir)
        return 1
    os.replace(state_dir / PENDING_ENV_FILE, state_dir / ENV_FILE)
    env = read_env_file(state_dir / ENV_FILE)
    print(f"Tally is up: gateway {env['TALLY_GATEWAY_URL']}, usage-ingest {env['TALLY_INGEST_URL']}")
    print(f"API key: {env['TALLY_API_KEY']}")
    print(f"Admin login: {env['TALLY_ADMIN_EMAIL']} (password: TALLY_ADMIN_PASSWORD in {state_dir / ENV_FILE})")
    print(f"Connection details: {state_dir / ENV_FILE} (set -a; . {state_dir / ENV_FILE}; set +a)")
    print("Stop it with: python -m tally_stack down")
    return 0


def down(state_dir: Path, timeout: float = DOWN_TIMEOUT) -> int:
    """SIGTERM the PID in stack.pid (that PID only), wait for it to exit, remove stack.pid and stack.env."""
    pid = running_pid(state_dir)
    if pid is None:
        print("Tally is not running.")
        _remove_state(state_dir)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            print(f"Tally (pid {pid}) is still stopping after {timeout:.0f} s; see {state_dir / LOG_FILE}.")
            return 1
        time.sleep(0.2)
    _remove_state(state_dir)
    print("Tally stopped.")
    return 0


def running_pid(state_dir: Path) -> int | None:
    """The PID in stack.pid if that process is alive and is our detached stack, else None."""
    try:
        pid = int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    with contextlib.suppress(OSError):  # where there is no /proc, trust the PID file
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"tally_stack" not in cmdline or b"--detached-child" not in cmdline:
            return None
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie has exited; nobody reaped it yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _wait_until_ready(child: subprocess.Popen[bytes], state_dir: Path, timeout: float) -> str | None:
    """None once the child wrote its connection details, the gateway and usage-ingest answer /readyz with 200,
    and so does every worker (its consumers hold their partitions); else what went wrong."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return f"the stack exited with code {child.returncode}"
        pending = state_dir / PENDING_ENV_FILE
        if pending.exists():
            env = read_env_file(pending)
            apis = [env["TALLY_GATEWAY_URL"], env["TALLY_INGEST_URL"]]
            workers = [f"http://{HOST}:{s.worker_port}" for s in SERVICES if s.worker_port is not None]
            if all(answers_ready(url) for url in apis + workers):
                return None
        time.sleep(1.0)
    return f"the gateway, usage-ingest and the workers were not ready within {timeout:.0f} s"


def _remove_state(state_dir: Path) -> None:
    for name in (PID_FILE, ENV_FILE, PENDING_ENV_FILE):
        (state_dir / name).unlink(missing_ok=True)
