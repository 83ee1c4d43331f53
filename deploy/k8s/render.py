"""Render a kustomization the way `kubectl kustomize` does, for the few features deploy/k8s uses, on a machine
without kubectl:

    .venv/bin/python -m deploy.k8s.render deploy/k8s/overlays/prod > tally.yaml

Supported: `resources` (files and kustomization folders), `namespace`, `labels` (metadata only), `images`,
`replicas`, `patches` (strategic merge, lists of named items merged by name; or JSON 6902 with a `target`),
`configMapGenerator` (`literals`; behavior create, merge or replace) and `generatorOptions.disableNameSuffixHash`.
A generated ConfigMap's name gets a content hash suffix computed as kustomize's hasher does, and references to it
from pod specs follow. Any other field is refused rather than ignored.
"""

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

Resource = dict[str, Any]
KNOWN = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
    "configMapGenerator",
    "generatorOptions",
}
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "PriorityClass"}
_GENERATED = "__kustomize_generated__"


class KustomizeError(ValueError):
    pass


def build(directory: Path) -> list[Resource]:
    """The rendered resources of the kustomization in `directory`."""
    resources = _render(directory)
    renames = {
        r["metadata"]["name"]: f"{r['metadata']['name']}-{hash_suffix(r)}"
        for r in resources
        if r.get(_GENERATED) == "hash"
    }
    for resource in resources:
        resource.pop(_GENERATED, None)
        if resource["kind"] == "ConfigMap" and resource["metadata"]["name"] in renames:
            resource["metadata"]["name"] = renames[resource["metadata"]["name"]]
        for pod in _pod_specs(resource):
            _rename_config_maps(pod, renames)
    return resources


def _render(directory: Path) -> list[Resource]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KNOWN
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources += _render(path) if path.is_dir() else _load(path)
    hashed = not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash", False)
    for generator in kustomization.get("configMapGenerator", []):
        _generate(resources, generator, hashed)
    for patch in kustomization.get("patches", []):
        _patch(resources, patch, directory)
    for resource in resources:
        _transform(resource, kustomization)
    return resources


def _load(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _generate(resources: list[Resource], generator: dict[str, Any], hashed: bool) -> None:
    name = generator["name"]
    if set(generator) - {"name", "literals", "behavior"}:
        raise KustomizeError(f"configMapGenerator {name}: only literals are supported")
    data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
    behavior = generator.get("behavior", "create")
    existing = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == name]
    if behavior == "create":
        if existing:
            raise KustomizeError(f"configMapGenerator {name}: exists already (use behavior merge or replace)")
        resources.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
            | {_GENERATED: "hash" if hashed else "plain"}
        )
    elif behavior in {"merge", "replace"} and len(existing) == 1:
        existing[0]["data"] = (existing[0].get("data", {}) if behavior == "merge" else {}) | data
    else:
        raise KustomizeError(f"configMapGenerator {name}: behavior {behavior!r} needs one ConfigMap {name} to change")


def hash_suffix(config_map: Resource) -> str:
    """kustomize's suffix: the sha256 of {kind, name, data} as Go's json.Marshal writes it, 10 characters mapped."""
    encoded = json.dumps(
        {"data": config_map.get("data", {}), "kind": "ConfigMap", "name": config_map["metadata"]["name"]},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _patch(resources: list[Resource], patch: dict[str, Any], directory: Path) -> None:
    text = (directory / patch["path"]).read_text() if "path" in patch else patch["patch"]
    documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    target = patch.get("target")
    if len(documents) == 1 and isinstance(documents[0], list):
        if target is None:
            raise KustomizeError("a JSON 6902 patch needs a target")
        for resource in _matching(resources, target):
            for operation in documents[0]:
                _json6902(resource, operation)
        return
    for document in documents:
        selector = target or {"kind": document["kind"], "name": document["metadata"]["name"]}
        for resource in _matching(resources, selector):
            merged = _merge(resource, document)
            resource.clear()
            resource.update(merged)


def _matching(resources: list[Resource], target: dict[str, Any]) -> list[Resource]:
    if set(target) - {"kind", "name"}:
        raise KustomizeError(f"patch target {target}: only kind and name are supported")
    found = [
        r
        for r in resources
        if target.get("kind", r["kind"]) == r["kind"]
        and target.get("name", r["metadata"]["name"]) == r["metadata"]["name"]
    ]
    if not found:
        raise KustomizeError(f"patch target {target} matches no resource")
    return found


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge for the cases used: maps merge (null deletes), lists of named maps merge by name (in place;
    new names appended), other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        patches = {item["name"]: item for item in patch}
        merged_list = [_merge(item, patches[item["name"]]) if item["name"] in patches else item for item in base]
        known = {item["name"] for item in base}
        return merged_list + [copy.deepcopy(item) for item in patch if item["name"] not in known]
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "name" in item for item in items)


def _json6902(resource: Resource, operation: dict[str, Any]) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
    node: Any = resource
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, operation["value"])
        elif op == "replace":
            node[index] = operation["value"]
        elif op == "remove":
            del node[index]
        else:
            raise KustomizeError(f"unsupported JSON patch op {op}")
    elif op == "add" or (op == "replace" and last in node):
        node[last] = operation["value"]
    elif op == "remove" and last in node:
        del node[last]
    else:
        raise KustomizeError(
            f"JSON patch {operation} does not apply to {resource['kind']} {resource['metadata']['name']}"
        )


def _transform(resource: Resource, kustomization: dict[str, Any]) -> None:
    metadata = resource.setdefault("metadata", {})
    if "namespace" in kustomization and resource["kind"] not in CLUSTER_SCOPED:
        metadata["namespace"] = kustomization["namespace"]
    for labels in kustomization.get("labels", []):
        if labels.get("includeSelectors") or labels.get("includeTemplates"):
            raise KustomizeError("labels: only metadata labels are supported")
        metadata.setdefault("labels", {}).update(labels["pairs"])
    for pod in _pod_specs(resource):
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            container["image"] = _image(container["image"], kustomization.get("images", []))
    for replicas in kustomization.get("replicas", []):
        if resource["kind"] in {"Deployment", "StatefulSet"} and metadata["name"] == replicas["name"]:
            resource["spec"]["replicas"] = replicas["count"]


def _image(image: str, rules: list[dict[str, str]]) -> str:
    name, digest = image.split("@", 1) if "@" in image else (image, "")
    name, tag = name.rsplit(":", 1) if ":" in name.rsplit("/", 1)[-1] else (name, "")
    for rule in rules:
        if rule["name"] == name:
            name = rule.get("newName", name)
            tag = str(rule.get("newTag", tag))
            digest = rule.get("digest", digest)
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _pod_specs(resource: Resource) -> list[dict[str, Any]]:
    spec = resource.get("spec", {})
    if resource["kind"] == "Pod":
        return [spec]
    if resource["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if resource["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        return [spec["template"]["spec"]]
    return []


def _rename_config_maps(pod: dict[str, Any], renames: dict[str, str]) -> None:
    refs = []
    for container in pod.get("initContainers", []) + pod.get("containers", []):
        refs += [source["configMapRef"] for source in container.get("envFrom", []) if "configMapRef" in source]
        refs += [
            v["valueFrom"]["configMapKeyRef"]
            for v in container.get("env", [])
            if "configMapKeyRef" in v.get("valueFrom", {})
        ]
    refs += [volume["configMap"] for volume in pod.get("volumes", []) if "configMap" in volume]
    for ref in refs:
        ref["name"] = renames.get(ref["name"], ref["name"])


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m deploy.k8s.render <kustomization folder>", file=sys.stderr)
        return 2
    print(yaml.safe_dump_all(build(Path(sys.argv[1])), sort_keys=False, explicit_start=True), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
