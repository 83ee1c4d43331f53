"""deploy/k8s rendered for each overlay: valid Kubernetes objects (kubernetes-validate), and consistent with the code
and the topic registry: processes, probes, ports, environment, autoscaling bounds, Kafka and Postgres resources."""

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
from contracts.topics import TOPICS
from pydantic_settings import BaseSettings
from tally_cli.topics import wanted_topics

from deploy.k8s.inventory import ServiceInfo, services

K8S_VERSION = "1.33.0"
CRDS = Path(__file__).resolve().parent / "crds"
OVERLAYS = ("dev", "prod")
FAKE_SECRET = "0123456789abcdef0123456789abcdef"
PROCESSES = [(s, role) for s in services() for role in s.roles]
Resources = list[dict[str, Any]]


def one(resources: Resources, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in resources if r["kind"] == kind and name in {None, r["metadata"]["name"]}]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _secret_refs(resources: Resources) -> list[dict[str, Any]]:
    return [
        var["valueFrom"]["secretKeyRef"]
        for workload in resources
        if workload["kind"] in {"Deployment", "Job"}
        for var in container(workload)["env"]
        if "valueFrom" in var
    ]


def environment(resources: Resources, spec: dict[str, Any]) -> dict[str, str]:
    """The container's environment once Kubernetes has resolved it. The operator's Secrets hold made-up values
    for every key some workload requires, and nothing else."""
    created = {(ref["name"], ref["key"]) for ref in _secret_refs(resources) if not ref["optional"]}
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        env |= one(resources, "ConfigMap", source["configMapRef"]["name"])["data"]
    for var in spec.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], var["value"])
        elif (var["valueFrom"]["secretKeyRef"]["name"], var["valueFrom"]["secretKeyRef"]["key"]) in created:
            env[var["name"]] = "ops@tally.example" if var["name"].endswith("EMAIL") else FAKE_SECRET
    return env


def secret_of(spec: dict[str, Any], variable: str) -> str:
    [var] = [v for v in spec["env"] if v["name"] == variable]
    name: str = var["valueFrom"]["secretKeyRef"]["name"]
    return name


def _strict(schema: Any) -> Any:
    """A CRD's schema refusing unknown fields, as `kubectl apply` does with strict field validation."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and not open_ended:
        strict["additionalProperties"] = False
    return strict


def _crd_validators() -> dict[tuple[str, str], jsonschema.Draft4Validator]:
    """(apiVersion, kind) -> a validator for the custom resources deploy/tests/crds holds (see its README)."""
    validators = {}
    for path in CRDS.glob("*.json"):
        crd = json.loads(path.read_text())
        validators[(f"{crd['group']}/{crd['version']}", crd["kind"])] = jsonschema.Draft4Validator(
            _strict(crd["schema"])
        )
    return validators


CRD_VALIDATORS = _crd_validators()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_is_valid_for_kubernetes_or_its_operator(overlay: str, rendered: dict[str, Resources]) -> None:
    custom = 0
    for resource in rendered[overlay]:
        validator = CRD_VALIDATORS.get((resource["apiVersion"], resource["kind"]))
        if validator is None:
            kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
        else:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(resource)]
            assert errors == [], f"{resource['kind']} {resource['metadata']['name']}"
            custom += 1
    assert custom == sum(
        1 for r in rendered[overlay] if "strimzi.io" in r["apiVersion"] or "cnpg.io" in r["apiVersion"]
    )


def test_crd_validation_refuses_unknown_and_mistyped_fields(rendered: dict[str, Resources]) -> None:
    kafka = one(rendered["prod"], "Kafka")
    validator = CRD_VALIDATORS[(kafka["apiVersion"], "Kafka")]
    misspelt = kafka | {"spec": kafka["spec"] | {"entityOperators": {}}}
    assert not validator.is_valid(misspelt)
    cluster = one(rendered["prod"], "Cluster")
    validator = CRD_VALIDATORS[(cluster["apiVersion"], "Cluster")]
    assert not validator.is_valid(cluster | {"spec": cluster["spec"] | {"instances": "three"}})


def test_the_validator_refuses_what_it_should(rendered: dict[str, Resources]) -> None:
    deployment = one(rendered["prod"], "Deployment", "billing-api")
    broken = deployment | {"spec": deployment["spec"] | {"replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_generated_manifests_follow_the_code(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.k8s.generate", "--check"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(("service", "role"), PROCESSES, ids=lambda p: getattr(p, "name", p))
def test_each_process_is_deployed_with_probes_resources_and_its_environment(
    overlay: str,
    *,
    service: ServiceInfo,
    role: str,
    rendered: dict[str, Resources],
    settings_from: Callable[[type[BaseSettings], Mapping[str, str]], Any],
    dockerfile_env: Callable[[Path], dict[str, str]],
    repo: Path,
) -> None:
    resources = rendered[overlay]
    deployment = one(resources, "Deployment", f"{service.name}-{role}")
    spec = container(deployment)
    assert spec["args"] == [role]
    assert re.fullmatch(rf"(.+/)?tally/{service.name}:[\w.-]+", spec["image"]), spec["image"]
    env = dockerfile_env(repo / "services" / service.name / "Dockerfile") | environment(resources, spec)
    settings = settings_from(service.settings, env)  # a missing required variable fails here
    port = settings.api_port if role == "api" else settings.worker_port
    assert spec["ports"] == [{"name": "http", "containerPort": port}]
    assert settings.api_host == "0.0.0.0"
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    for kind in ("requests", "limits"):
        assert set(spec["resources"][kind]) == {"cpu", "memory"}
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    kafka = one(resources, "Kafka")
    [listener] = [item for item in kafka["spec"]["kafka"]["listeners"] if not item["tls"]]
    assert settings.kafka_bootstrap_servers == f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", [s for s in services() if s.schema], ids=lambda s: s.name)
def test_database_urls_reach_the_postgres_cluster_as_the_services_role(
    overlay: str, service: ServiceInfo, rendered: dict[str, Resources]
) -> None:
    resources = rendered[overlay]
    cluster = one(resources, "Cluster")
    workloads = [one(resources, "Deployment", f"{service.name}-{role}") for role in service.roles]
    workloads.append(one(resources, "Job", f"{service.name}-migrate"))
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    for workload in workloads:
        spec = container(workload)
        url = urlsplit(environment(resources, spec)[service.database_url_var])
        assert (url.hostname, url.port) == (f"{cluster['metadata']['name']}-rw", 5432)
        assert url.path == f"/{cluster['spec']['bootstrap']['initdb']['database']}"
        assert url.username == f"tally_{service.schema}"
        role = roles[url.username]
        assert role["login"] is True
        assert role["passwordSecret"]["name"] == secret_of(spec, f"{service.prefix}DB_PASSWORD")
    sql = cluster["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"]
    assert f"CREATE ROLE tally_{service.schema} NOSUPERUSER NOCREATEDB NOCREATEROLE" in sql
    assert f"CREATE SCHEMA {service.schema} AUTHORIZATION tally_{service.schema}" in sql
    assert f"ALTER ROLE tally_{service.schema} SET search_path = {service.schema}" in sql


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_urls_to_other_services_reach_their_api(
    overlay: str,
    rendered: dict[str, Resources],
    settings_from: Callable[[type[BaseSettings], Mapping[str, str]], Any],
) -> None:
    resources = rendered[overlay]
    checked = 0
    for service, role in PROCESSES:
        spec = container(one(resources, "Deployment", f"{service.name}-{role}"))
        settings = settings_from(service.settings, environment(resources, spec))
        for field in service.settings.model_fields:
            value = getattr(settings, field)
            if field.endswith("_url") and isinstance(value, str) and value.startswith("http"):
                url = urlsplit(value)
                target = one(resources, "Service", url.hostname)
                assert [p["port"] for p in target["spec"]["ports"]] == [url.port], f"{field}={value}"
                pods = [d for d in resources if d["kind"] == "Deployment" and _selects(target["spec"]["selector"], d)]
                [pod] = pods
                assert container(pod)["ports"][0]["name"] == target["spec"]["ports"][0]["targetPort"]
                assert container(pod)["ports"][0]["containerPort"] == url.port
                checked += 1
    assert checked >= len(services()) - 1, "the gateway's upstream URLs were not all checked"


def _selects(selector: dict[str, str], deployment: dict[str, Any]) -> bool:
    return selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaling_and_disruption_budgets(overlay: str, rendered: dict[str, Resources]) -> None:
    resources = rendered[overlay]
    for service, role in PROCESSES:
        name = f"{service.name}-{role}"
        deployment = one(resources, "Deployment", name)
        hpas = [
            r
            for r in resources
            if r["kind"] == "HorizontalPodAutoscaler" and r["spec"]["scaleTargetRef"]["name"] == name
        ]
        [hpa] = hpas
        low, high = hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]
        assert 1 <= low <= deployment["spec"]["replicas"] <= high
        if role == "worker":
            consumed = [t.partitions for t in TOPICS if service.name in t.consumers]
            assert high <= min(consumed, default=1), f"{name}: more replicas than partitions to hold"
        [pdb] = [
            r
            for r in resources
            if r["kind"] == "PodDisruptionBudget" and _selects(r["spec"]["selector"]["matchLabels"], deployment)
        ]
        assert pdb["spec"].get("maxUnavailable", 0) >= 1, "a budget of zero disruptions blocks node drains"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_migration_job_per_schema(overlay: str, rendered: dict[str, Resources]) -> None:
    resources = rendered[overlay]
    jobs = {r["metadata"]["name"] for r in resources if r["kind"] == "Job"}
    assert jobs == {f"{s.name}-migrate" for s in services() if s.schema}
    for service in (s for s in services() if s.schema):
        job = container(one(resources, "Job", f"{service.name}-migrate"))
        api = container(one(resources, "Deployment", f"{service.name}-api"))
        assert job["image"] == api["image"]
        assert (job["env"], job["envFrom"]) == (api["env"], api["envFrom"])
        assert job["command"] == ["tally", "db", "migrate", service.name]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_referenced_never_committed(overlay: str, rendered: dict[str, Resources], repo: Path) -> None:
    resources = rendered[overlay]
    assert not [r for r in resources if r["kind"] == "Secret"]
    operations = (repo / "docs" / "operations.md").read_text()
    referenced: dict[str, set[str]] = {}
    for ref in _secret_refs(resources):
        referenced.setdefault(ref["name"], set()).add(ref["key"])
    for role in one(resources, "Cluster")["spec"]["managed"]["roles"]:
        referenced.setdefault(role["passwordSecret"]["name"], set()).add("password")
    assert set(referenced) == {"tally-secrets"} | {f"tally-db-{s.schema}" for s in services() if s.schema}
    for name, keys in referenced.items():
        assert f"`{name}`" in operations, f"docs/operations.md should say how to create Secret {name}"
        for key in keys:
            assert f"`{key}`" in operations, f"docs/operations.md should name the key {key} of {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_runs_in_kraft_with_the_registry_topics(overlay: str, rendered: dict[str, Resources]) -> None:
    resources = rendered[overlay]
    kafka = one(resources, "Kafka")
    name = kafka["metadata"]["name"]
    pools = [
        r for r in resources if r["kind"] == "KafkaNodePool" and r["metadata"]["labels"]["strimzi.io/cluster"] == name
    ]
    assert {"controller", "broker"} <= {role for pool in pools for role in pool["spec"]["roles"]}
    brokers = sum(pool["spec"]["replicas"] for pool in pools if "broker" in pool["spec"]["roles"])
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] <= brokers
    assert config["offsets.topic.replication.factor"] <= brokers
    assert config["min.insync.replicas"] <= max(1, config["default.replication.factor"] - 1)
    assert config["auto.create.topics.enable"] is False
    topics = {
        t["spec"]["topicName"]: (t["spec"]["partitions"], t["spec"]["config"])
        for t in resources
        if t["kind"] == "KafkaTopic"
    }
    assert topics == wanted_topics(TOPICS)
    for topic in (r for r in resources if r["kind"] == "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == name
        assert topic["spec"]["replicas"] <= brokers
        assert config["min.insync.replicas"] <= topic["spec"]["replicas"]


def test_compose_runs_the_kafka_version_kubernetes_runs(
    rendered: dict[str, Resources], compose: dict[str, Any]
) -> None:
    version = one(rendered["prod"], "Kafka")["spec"]["kafka"]["version"]
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version}"
