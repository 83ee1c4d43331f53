"""deploy.k8s.render on small kustomizations: each supported feature does what kustomize does, and anything else is
refused rather than ignored."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.k8s.render import KustomizeError, build, hash_suffix

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "tally/web",
                        "envFrom": [{"configMapRef": {"name": "settings"}}],
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    },
                    {"name": "sidecar", "image": "busybox:1.36"},
                ]
            },
        },
    },
}


def _write(folder: Path, kustomization: dict[str, Any], files: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    for name, content in (files or {}).items():
        (folder / name).write_text(content if isinstance(content, str) else yaml.safe_dump_all(content))
    return folder


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "base",
        {
            "resources": ["web.yaml"],
            "labels": [{"pairs": {"part-of": "tally"}}],
            "configMapGenerator": [{"name": "settings", "literals": ["LEVEL=INFO", "URL=http://x:1"]}],
        },
        {"web.yaml": [DEPLOYMENT]},
    )


def _by_kind(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in resources}


def test_base_labels_metadata_only_andhash_suffixes_the_generated_config_map(base: Path) -> None:
    rendered = _by_kind(build(base))
    deployment, config_map = rendered["Deployment"], rendered["ConfigMap"]
    assert deployment["metadata"]["labels"] == {"app": "web", "part-of": "tally"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    name = config_map["metadata"]["name"]
    assert name.startswith("settings-")
    assert len(name.removeprefix("settings-")) == 10
    assert deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"configMapRef": {"name": name}}]
    assert config_map["data"] == {"LEVEL": "INFO", "URL": "http://x:1"}


def test_overlay_namespace_images_replicas_merge_and_patches(base: Path, tmp_path: Path) -> None:
    overlay = _write(
        tmp_path / "overlay",
        {
            "namespace": "prod",
            "resources": ["../base"],
            "images": [{"name": "tally/web", "newName": "registry.example.com/web", "newTag": "1.2.3"}],
            "replicas": [{"name": "web", "count": 5}],
            "configMapGenerator": [{"name": "settings", "behavior": "merge", "literals": ["LEVEL=DEBUG"]}],
            "patches": [
                {"path": "more.yaml"},
                {"target": {"kind": "Deployment"}, "patch": "- {op: add, path: /spec/paused, value: true}"},
            ],
        },
        {
            "more.yaml": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "web"},
                    "spec": {
                        "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "3"}]}]}}
                    },
                }
            ]
        },
    )
    base_name = _by_kind(build(base))["ConfigMap"]["metadata"]["name"]
    rendered = _by_kind(build(overlay))
    deployment, config_map = rendered["Deployment"], rendered["ConfigMap"]
    assert {deployment["metadata"]["namespace"], config_map["metadata"]["namespace"]} == {"prod"}
    assert deployment["spec"]["replicas"] == 5
    assert deployment["spec"]["paused"] is True
    web, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    assert web["image"] == "registry.example.com/web:1.2.3"
    assert sidecar["image"] == "busybox:1.36"
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert config_map["data"] == {"LEVEL": "DEBUG", "URL": "http://x:1"}
    assert config_map["metadata"]["name"] != base_name, "a changed ConfigMap must get a new name"
    assert web["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]


@pytest.mark.parametrize(
    ("kustomization", "message"),
    [
        ({"resources": ["../base"], "commonAnnotations": {"a": "b"}}, "unsupported kustomization fields"),
        ({"resources": ["../base"], "patches": [{"patch": "- {op: remove, path: /spec/replicas}"}]}, "needs a target"),
        (
            {
                "resources": ["../base"],
                "patches": [{"target": {"kind": "StatefulSet"}, "patch": "- {op: remove, path: /x}"}],
            },
            "matches no resource",
        ),
        (
            {
                "resources": ["../base"],
                "patches": [{"target": {"kind": "Deployment"}, "patch": "- {op: replace, path: /nope, value: 1}"}],
            },
            "does not apply",
        ),
        (
            {"resources": ["../base"], "configMapGenerator": [{"name": "settings", "literals": ["X=1"]}]},
            "exists already",
        ),
        (
            {"resources": ["../base"], "labels": [{"pairs": {"a": "b"}, "includeSelectors": True}]},
            "only metadata labels",
        ),
    ],
)
def test_what_it_cannot_do_is_refused(base: Path, tmp_path: Path, kustomization: dict[str, Any], message: str) -> None:
    overlay = _write(tmp_path / "overlay", kustomization)
    with pytest.raises(KustomizeError, match=message):
        build(overlay)


@pytest.mark.parametrize(
    ("data", "suffix"),
    # The cases of kubectl's and kustomize's hasher tests (TestConfigMapHash, ConfigMaps with no name).
    [({}, "42745tchd9"), ({"one": ""}, "9g67k2htb6"), ({"two": "2", "one": "", "three": "3"}, "f5h7t85m9b")],
)
def test_name_suffix_is_kustomizes(data: dict[str, str], suffix: str) -> None:
    assert hash_suffix({"kind": "ConfigMap", "metadata": {"name": ""}, "data": data}) == suffix
