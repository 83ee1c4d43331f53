"""Shell-style KEY=value files: secrets.env, stack.env."""

import os
import shlex
from collections.abc import Mapping
from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=value lines of `path` ({} when it does not exist); blank lines and # comments are skipped."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        words = shlex.split(value)
        values[key.strip()] = words[0] if words else ""
    return values


def write_env_file(path: Path, values: Mapping[str, str], mode: int = 0o644) -> None:
    """Write `values` as shell-quoted KEY=value lines, atomically, with permissions `mode` from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
