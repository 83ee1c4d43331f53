"""docker-compose.yml: valid against the Compose specification, and consistent with the code: every service's
processes, the environment their settings need, ports, healthchecks, start order, topics and scrape targets."""

import copy
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from contracts.topics import TOPICS
from pydantic_settings import BaseSettings
from tally_cli.topics import wanted_topics

from deploy.k8s.inventory import ServiceInfo, environment, services

SCHEMA = Path(__file__).resolve().parents[1] / "compose" / "compose-spec.json"
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")
FAKE_SECRET = "0123456789abcdef0123456789abcdef"
KNOBS = {"TALLY_LOG_LEVEL", "TALLY_VERSION"}  # settings with a default, not secrets
NO_HEALTHCHECK = {"otel-collector", "jaeger"}  # distroless images: nothing in them can probe
PROCESSES = [(s, role) for s in services() for role in s.roles]


def _interpolate(value: str) -> str:
    """What compose makes of a value when the operator has set every required variable and nothing else."""

    def substitute(match: re.Match[str]) -> str:
        if match["op"] == ":?":
            return "ops@tally.example" if match["name"].endswith("EMAIL") else FAKE_SECRET
        if match["op"] == ":-":
            return match["arg"]
        raise AssertionError(f"${{{match['name']}}} has neither a default nor an error when unset")

    return VARIABLE.sub(substitute, value)


def _environment(compose: dict[str, Any], name: str) -> dict[str, str]:
    """The container's environment from compose: null values pass the host's variable through, unset here."""
    declared = compose["services"][name].get("environment", {})
    return {key: _interpolate(str(value)) for key, value in declared.items() if value is not None}


def _depends(compose: dict[str, Any], name: str) -> dict[str, str]:
    """Every service `name` waits for, directly or through those it waits for, with the condition."""
    found: dict[str, str] = {}
    pending = [name]
    while pending:
        for dependency, spec in compose["services"][pending.pop()].get("depends_on", {}).items():
            if dependency not in found:
                found[dependency] = spec["condition"]
                pending.append(dependency)
    return found


def test_compose_file_matches_the_specification(compose: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    assert [error.message for error in validator.iter_errors(compose)] == []
    broken = copy.deepcopy(compose)
    broken["services"]["kafka-init"]["depends_on"]["kafka"]["condition"] = "healthy"
    assert not validator.is_valid(broken), "the schema should refuse an unknown depends_on condition"


def test_every_process_of_every_service_is_in_compose(compose: dict[str, Any]) -> None:
    built = {name: spec for name, spec in compose["services"].items() if "build" in spec}
    assert set(built) == {f"{service.name}-{role}" for service, role in PROCESSES}
    for service, role in PROCESSES:
        spec = built[f"{service.name}-{role}"]
        assert spec["build"] == {"context": ".", "dockerfile": f"services/{service.name}/Dockerfile"}
        assert spec["command"] == [role]
        assert spec["image"].startswith(f"tally/{service.name}:")


@pytest.mark.parametrize(("service", "role"), PROCESSES, ids=lambda p: getattr(p, "name", p))
def test_each_process_starts_with_the_environment_compose_gives_it(
    service: ServiceInfo,
    *,
    role: str,
    compose: dict[str, Any],
    repo: Path,
    settings_from: Callable[[type[BaseSettings], Mapping[str, str]], Any],
    dockerfile_env: Callable[[Path], dict[str, str]],
) -> None:
    name = f"{service.name}-{role}"
    env = dockerfile_env(repo / "services" / service.name / "Dockerfile") | _environment(compose, name)
    settings = settings_from(service.settings, env)  # a missing required variable fails here
    assert settings.api_host == "0.0.0.0"
    port = settings.api_port if role == "api" else settings.worker_port
    probe = compose["services"][name]["healthcheck"]["test"]
    assert f"'http://127.0.0.1:{port}/readyz'" in probe[-1], "the healthcheck probes another port"
    kafka = urlsplit(f"//{settings.kafka_bootstrap_servers}")
    assert kafka.hostname in compose["services"]
    assert (
        f"PLAINTEXT://{kafka.hostname}:{kafka.port}"
        in compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    )
    otlp = urlsplit(settings.otlp_endpoint)
    collector = yaml.safe_load((repo / "deploy" / "compose" / "otel-collector.yaml").read_text())
    assert otlp.hostname in compose["services"]
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{otlp.port}")
    if service.schema is not None:
        url = urlsplit(settings.database_url)
        assert (url.hostname, url.port, url.path, url.username) == (
            "postgres",
            5432,
            "/tally",
            f"tally_{service.schema}",
        )
        declared = compose["services"][name]["environment"][service.database_url_var]
        password_var = f"TALLY_{service.schema.upper()}_DB_PASSWORD"
        assert f"${{{password_var}:?" in declared, "the URL should carry the role's password given to postgres"
        assert password_var in compose["services"]["postgres"]["environment"]


@pytest.mark.parametrize(("service", "role"), PROCESSES, ids=lambda p: getattr(p, "name", p))
def test_urls_to_other_services_reach_their_api_port(
    service: ServiceInfo,
    *,
    role: str,
    compose: dict[str, Any],
    repo: Path,
    settings_from: Callable[[type[BaseSettings], Mapping[str, str]], Any],
    dockerfile_env: Callable[[Path], dict[str, str]],
) -> None:
    by_process = {f"{s.name}-api": s for s in services()}
    env = dockerfile_env(repo / "services" / service.name / "Dockerfile") | _environment(
        compose, f"{service.name}-{role}"
    )
    settings = settings_from(service.settings, env)
    for field in service.settings.model_fields:
        value = getattr(settings, field)
        if field.endswith("_url") and isinstance(value, str) and value.startswith("http"):
            url = urlsplit(value)
            assert url.hostname in by_process, f"{field}={value} names no api in compose"
            assert url.port == by_process[url.hostname].api_port, f"{field}={value}: wrong port"


def test_secrets_are_required_or_passed_through_never_written(compose: dict[str, Any]) -> None:
    secret_vars = {var.name for s in services() for var in environment(s.settings) if var.secret}
    required = {var.name for s in services() for var in environment(s.settings) if var.required}
    required -= {s.database_url_var for s in services()}  # made of a required password: see the test above
    for name, spec in compose["services"].items():
        for key, value in spec.get("environment", {}).items():
            if value is None:
                continue
            for match in VARIABLE.finditer(str(value)):
                assert match["op"] == ":?" or match["name"] in KNOBS, f"{name}: ${{{match['name']}}} must be required"
            if key in secret_vars | required:
                assert VARIABLE.fullmatch(str(value)), f"{name}: {key} must come from the environment, not the file"
                assert VARIABLE.fullmatch(str(value))["op"] == ":?"  # type: ignore[index]
            assert not re.search(r"\b(sk|whsec|tk)_(test|live)_\w+", str(value)), f"{name}: {key} holds a secret"


def test_postgres_is_given_every_password_init_sql_reads(compose: dict[str, Any], repo: Path) -> None:
    postgres = compose["services"]["postgres"]
    init_sql = (repo / "deploy" / "postgres" / "init.sql").read_text()
    read = set(re.findall(r"^\\getenv \w+ (\w+)$", init_sql, flags=re.MULTILINE))
    schemas = {s.schema for s in services() if s.schema}
    assert read == {f"TALLY_{schema.upper()}_DB_PASSWORD" for schema in schemas}
    assert read | {"POSTGRES_PASSWORD"} == set(postgres["environment"])
    assert "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/10-tally.sql:ro" in postgres["volumes"]
    for schema in schemas:
        assert f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION tally_{schema}" in init_sql


def test_start_order_waits_for_what_each_process_needs(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        for dependency, condition in spec.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in compose["services"][dependency], f"{name} waits on {dependency}'s health"
        if name not in NO_HEALTHCHECK and spec.get("restart") != "no":
            assert "healthcheck" in spec, f"{name} has no healthcheck"
    assert _depends(compose, "kafka-init") == {"kafka": "service_healthy"}
    for service, role in PROCESSES:
        waits = _depends(compose, f"{service.name}-{role}")
        assert waits["kafka-init"] == "service_completed_successfully"
        if service.schema is not None:
            assert waits["postgres"] == "service_healthy"
    gateway = compose["services"]["gateway-api"]["depends_on"]
    for service in services():
        if service.name != "gateway":
            assert gateway[f"{service.name}-api"] == {"condition": "service_healthy"}


def test_topic_init_creates_the_registry_topics(compose: dict[str, Any], repo: Path) -> None:
    script = (repo / "deploy" / "compose" / "create-topics.sh").read_text()
    created = {}
    for line in script.splitlines():
        if line.startswith("create --topic"):
            words = line.split()
            configs = dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "--config")
            created[words[2]] = (int(words[words.index("--partitions") + 1]), configs)
    assert created == wanted_topics(TOPICS)
    init = compose["services"]["kafka-init"]
    assert init["entrypoint"] == ["bash", "/opt/tally/create-topics.sh"]
    assert "./deploy/compose/create-topics.sh:/opt/tally/create-topics.sh:ro" in init["volumes"]
    assert init["image"] == compose["services"]["kafka"]["image"]


def test_prometheus_scrapes_every_process(repo: Path) -> None:
    config = yaml.safe_load((repo / "deploy" / "compose" / "prometheus.yml").read_text())
    targets = {
        target for job in config["scrape_configs"] for group in job["static_configs"] for target in group["targets"]
    }
    expected = {f"{s.name}-{role}:{s.api_port if role == 'api' else s.worker_port}" for s, role in PROCESSES}
    assert targets == expected


def test_gateway_is_published_on_8000(compose: dict[str, Any]) -> None:
    assert compose["services"]["gateway-api"]["ports"] == ["8000:8000"]


def test_kafka_is_one_kraft_node_that_advertises_its_service_name(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")
    assert int(node) == env["KAFKA_NODE_ID"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    assert voter == f"kafka:{listeners[env['KAFKA_CONTROLLER_LISTENER_NAMES']].lstrip(':')}"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://kafka{listeners['PLAINTEXT']}"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from the registry, never from a typo"
    assert "kafka-data:/var/lib/kafka/data" in compose["services"]["kafka"]["volumes"]
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"


def test_third_party_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        if "build" not in spec:
            assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)+(-[\w.]+)?", spec["image"]), (
                f"{name}: {spec['image']} is not pinned"
            )


def test_collector_sends_traces_to_jaeger(compose: dict[str, Any], repo: Path) -> None:
    config = yaml.safe_load((repo / "deploy" / "compose" / "otel-collector.yaml").read_text())
    [pipeline] = config["service"]["pipelines"].values()
    for section in ("receivers", "processors", "exporters"):
        assert set(pipeline[section]) <= set(config[section]), section
    [exporter] = [config["exporters"][name] for name in pipeline["exporters"]]
    host, port = exporter["endpoint"].split(":")
    assert host in compose["services"]
    assert port == "4317", "Jaeger takes OTLP over gRPC on 4317"
    mounted = compose["services"]["otel-collector"]["volumes"][0].split(":")[1]
    assert compose["services"]["otel-collector"]["command"] == [f"--config={mounted}"]
