"""The rendered NetworkPolicies, evaluated the way Kubernetes does (a pod selected by a policy of a type may only
do what some rule of such a policy allows): each service reaches what it must and nothing else."""

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest

from deploy.k8s.inventory import services

OVERLAYS = ("dev", "prod")
STRIPE_IP = "54.187.174.169"  # api.stripe.com resolves to public addresses like this one
KAFKA_BROKER = {"strimzi.io/cluster": "tally", "strimzi.io/kind": "Kafka", "strimzi.io/broker-role": "true"}
POSTGRES_PRIMARY = {"cnpg.io/cluster": "tally-db", "cnpg.io/instanceRole": "primary"}
KUBE_DNS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


Peer = Pod | str  # a pod, or an IP address outside the cluster


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        ok = {
            "In": present and value in expression.get("values", []),
            "NotIn": not present or value not in expression.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_namespace: str, other: Peer) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, str):
            return False
        address = ipaddress.ip_address(other)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excluded) for excluded in block.get("except", [])
        )
    if isinstance(other, str):
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": other.namespace}
        if not _matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return _matches(peer.get("podSelector", {}), other.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return ports is None or any(p.get("protocol", "TCP") == protocol and p.get("port") == port for p in ports)


def _allowed(
    policies: list[dict[str, Any]], pod: Pod, direction: str, other: Peer, *, port: int, protocol: str
) -> bool:
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    return any(
        _port_matches(rule, port, protocol)
        and (peers_key not in rule or any(_peer_matches(peer, pod.namespace, other) for peer in rule[peers_key]))
        for policy in selecting
        for rule in policy["spec"].get(key, [])
    )


def can_connect(policies: list[dict[str, Any]], source: Pod, target: Peer, port: int, protocol: str = "TCP") -> bool:
    out = _allowed(policies, source, "Egress", target, port=port, protocol=protocol)
    return out and (
        isinstance(target, str) or _allowed(policies, target, "Ingress", source, port=port, protocol=protocol)
    )


class Cluster:
    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
        self.namespace = self.policies[0]["metadata"]["namespace"]
        workloads = [r for r in resources if r["kind"] in {"Deployment", "Job"}]
        self.pods = {
            r["metadata"]["name"]: Pod(self.namespace, r["spec"]["template"]["metadata"]["labels"]) for r in workloads
        }
        self.ports = {
            r["metadata"]["name"]: r["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
            for r in workloads
            if r["kind"] == "Deployment"
        }

    def pod(self, labels: dict[str, str], namespace: str | None = None) -> Pod:
        return Pod(namespace or self.namespace, labels)

    def connects(self, source: str | Pod, target: str | Peer, port: int | None = None, protocol: str = "TCP") -> bool:
        src = self.pods[source] if isinstance(source, str) else source
        dst = self.pods[target] if isinstance(target, str) and target in self.pods else target
        return can_connect(self.policies, src, dst, port if port is not None else self.ports[str(target)], protocol)


@pytest.fixture(params=OVERLAYS)
def cluster(request: pytest.FixtureRequest, rendered: dict[str, list[dict[str, Any]]]) -> Cluster:
    return Cluster(rendered[request.param])


def test_only_the_gateway_reaches_the_internal_apis(cluster: Cluster) -> None:
    apis = [f"{s.name}-api" for s in services()]
    for target in apis:
        for source in cluster.pods:
            allowed = cluster.connects(source, target)
            assert allowed == (source == "gateway-api" != target), f"{source} -> {target}: {allowed}"
    stranger = cluster.pod({"app": "other"}, "elsewhere")
    assert cluster.connects(stranger, "gateway-api")
    assert not cluster.connects(stranger, "billing-api")
    assert not cluster.connects(stranger, "billing-worker")


def test_prometheus_in_monitoring_scrapes_every_process(cluster: Cluster) -> None:
    prometheus = cluster.pod({"app.kubernetes.io/name": "prometheus"}, "monitoring")
    for name in cluster.ports:
        assert cluster.connects(prometheus, name), name


def test_kafka_and_postgres_are_reached_by_those_that_need_them(cluster: Cluster) -> None:
    broker = cluster.pod(KAFKA_BROKER)
    postgres = cluster.pod(POSTGRES_PRIMARY)
    dns = cluster.pod(KUBE_DNS, "kube-system")
    for service in services():
        processes = [f"{service.name}-{role}" for role in service.roles]
        processes += [f"{service.name}-migrate"] if service.schema else []
        for process in processes:
            assert cluster.connects(process, broker, 9092), process
            assert cluster.connects(process, postgres, 5432) == (service.schema is not None), process
            assert cluster.connects(process, dns, 53, "UDP"), process
            assert not cluster.connects(process, postgres, 9092), process


def test_only_billing_reaches_stripe(cluster: Cluster) -> None:
    for name in cluster.pods:
        assert cluster.connects(name, STRIPE_IP, 443) == name.startswith("billing-"), name
        assert not cluster.connects(name, "10.0.3.7", 443), f"{name} reaches a private address"
        assert not cluster.connects(name, STRIPE_IP, 80), name


def test_kafka_listener_admits_tally_pods_only(rendered: dict[str, list[dict[str, Any]]]) -> None:
    [kafka] = [r for r in rendered["prod"] if r["kind"] == "Kafka"]
    [listener] = kafka["spec"]["kafka"]["listeners"]
    [peer] = listener["networkPolicyPeers"]
    cluster = Cluster(rendered["prod"])
    assert all(_matches(peer["podSelector"], pod.labels) for pod in cluster.pods.values())
    assert not _matches(peer["podSelector"], {"app": "other"})
