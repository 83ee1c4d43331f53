"""Fixtures for the deployment checks: the compose file, the rendered Kubernetes overlays, the services as the code
describes them, and settings built from an environment the way a container would get it."""

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # deploy.k8s.* are modules run with `python -m` from the repository root
    sys.path.insert(0, str(REPO))

from deploy.k8s.inventory import ServiceInfo, services  # noqa: E402
from deploy.k8s.render import build  # noqa: E402

OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def inventory() -> list[ServiceInfo]:
    found = services()
    assert found, "no services found under services/"
    return found


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: build(REPO / "deploy" / "k8s" / "overlays" / overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="session")
def settings_from() -> Callable[[type[BaseSettings], Mapping[str, str]], BaseSettings]:
    """Settings as the process would read them from exactly this environment (and nothing else)."""

    def make(settings: type[BaseSettings], env: Mapping[str, str]) -> BaseSettings:
        with mock.patch.dict(os.environ, dict(env), clear=True):
            return settings()

    return make


@pytest.fixture(scope="session")
def dockerfile_env() -> Callable[[Path], dict[str, str]]:
    """The ENV of a Dockerfile's final stage (what every container of the image starts with)."""

    def read(path: Path) -> dict[str, str]:
        final = re.split(r"^FROM .*$", path.read_text().replace("\\\n", " "), flags=re.MULTILINE)[-1]
        env: dict[str, str] = {}
        for line in final.splitlines():
            if line.startswith("ENV "):
                env.update(pair.split("=", 1) for pair in line.removeprefix("ENV ").split())
        return env

    return read
