"""What the code says about each service, for the deployment files: its package, ports, processes, schema, the
environment it needs and the topics it consumes. Read from the services themselves (settings classes, `__main__`,
`db.SCHEMA`) and the topic registry, so compose, Kubernetes and their tests follow the code."""

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.topics import TOPICS
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings
from tally_runtime.settings import DatabaseSettings

REPO = Path(__file__).resolve().parents[2]
SERVICES_DIR = REPO / "services"


@dataclass(frozen=True)
class EnvVar:
    name: str
    required: bool
    secret: bool


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    package: str
    settings: type[BaseSettings]
    api_port: int
    worker_port: int | None
    """None when `python -m <package>` has no `worker` process."""
    schema: str | None
    consumes: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix", ""))

    @property
    def roles(self) -> tuple[str, ...]:
        return ("api",) if self.worker_port is None else ("api", "worker")

    @property
    def database_url_var(self) -> str:
        return f"{self.prefix}DATABASE_URL"

    @property
    def max_consumers(self) -> int | None:
        """Replicas of the worker that can hold partitions: the fewest partitions among the topics it consumes."""
        partitions = [spec.partitions for spec in TOPICS if spec.name in self.consumes]
        return min(partitions) if partitions else None


def env_name(settings: type[BaseSettings], field_name: str, field: FieldInfo) -> str:
    if field.alias:
        return field.alias
    return f"{settings.model_config.get('env_prefix', '')}{field_name}".upper()


def _is_secret(field: FieldInfo) -> bool:
    annotation: Any = field.annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def environment(settings: type[BaseSettings]) -> list[EnvVar]:
    """The variables a deployment must think about: those without a default, and every secret."""
    wanted = [
        EnvVar(env_name(settings, name, field), field.is_required(), _is_secret(field))
        for name, field in settings.model_fields.items()
        if field.is_required() or _is_secret(field)
    ]
    return sorted(wanted, key=lambda var: var.name)


def _has_worker(main: Path) -> bool:
    """Whether `python -m <package>` passes a `worker` to run_service."""
    for node in ast.walk(ast.parse(main.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "run_service":
            return any(keyword.arg == "worker" for keyword in node.keywords)
    raise ValueError(f"{main} does not call run_service")


def _settings_class(package: str) -> type[BaseSettings]:
    config = importlib.import_module(f"{package}.config")
    classes = [
        value
        for value in vars(config).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == config.__name__
    ]
    if len(classes) != 1:
        raise ValueError(f"{package}.config should define one settings class, found {classes}")
    return classes[0]


def _field_default(settings: type[BaseSettings], name: str) -> int:
    default = settings.model_fields[name].default
    if not isinstance(default, int):
        raise TypeError(f"{settings.__name__}.{name} has no integer default")
    return default


def service_info(directory: Path) -> ServiceInfo:
    mains = sorted(directory.glob("*/__main__.py"))
    if len(mains) != 1:
        raise ValueError(f"{directory} should hold one package with a __main__.py, found {mains}")
    package = mains[0].parent.name
    settings = _settings_class(package)
    schema = str(importlib.import_module(f"{package}.db").SCHEMA) if issubclass(settings, DatabaseSettings) else None
    return ServiceInfo(
        name=directory.name,
        package=package,
        settings=settings,
        api_port=_field_default(settings, "api_port"),
        worker_port=_field_default(settings, "worker_port") if _has_worker(mains[0]) else None,
        schema=schema,
        consumes=tuple(spec.name for spec in TOPICS if directory.name in spec.consumers),
    )


def services() -> list[ServiceInfo]:
    """Every folder under services/ with a pyproject.toml, by name."""
    return [service_info(path.parent) for path in sorted(SERVICES_DIR.glob("*/pyproject.toml"))]
