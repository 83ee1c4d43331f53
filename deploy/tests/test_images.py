"""Each service's Dockerfile: hadolint clean, multi-stage on one pinned base, non-root, one image for `api` and
`worker`, installing exactly its own packages with the constraints. No engine builds it here."""

import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.k8s.inventory import ServiceInfo, services

HADOLINT = Path(sys.executable).parent / "hadolint"
PINNED_BASE = re.compile(r"^ARG PYTHON_IMAGE=(python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64})$", re.MULTILINE)
SERVICES = services()


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = _instructions(path)
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _local_packages(repo: Path) -> dict[str, str]:
    """Project name -> folder, for the repository's own packages."""
    found = {}
    for pyproject in [
        *repo.glob("libs/*/pyproject.toml"),
        *repo.glob("tools/*/pyproject.toml"),
        *repo.glob("services/*/pyproject.toml"),
    ]:
        found[tomllib.loads(pyproject.read_text())["project"]["name"]] = str(pyproject.parent.relative_to(repo))
    return found


def test_every_service_folder_has_a_dockerfile(repo: Path) -> None:
    folders = {path.parent.name for path in repo.glob("services/*/pyproject.toml")}
    assert folders == {s.name for s in SERVICES}
    assert {path.parent.name for path in repo.glob("services/*/Dockerfile")} == folders


def test_hadolint_passes_every_dockerfile(repo: Path) -> None:
    dockerfiles = sorted(str(path) for path in repo.glob("services/*/Dockerfile"))
    result = subprocess.run([str(HADOLINT), *dockerfiles], capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_refuses_what_it_should(tmp_path: Path) -> None:
    """The linter really runs, with its rules on: an unpinned base and unpinned packages fail."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    result = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout
    assert "DL3013" in result.stdout


def test_every_image_has_the_same_pinned_base(repo: Path) -> None:
    bases = {PINNED_BASE.findall(path.read_text())[0] for path in repo.glob("services/*/Dockerfile")}
    assert len(bases) == 1, bases
    for path in repo.glob("services/*/Dockerfile"):
        froms = [arg for name, arg in _instructions(path) if name == "FROM"]
        assert len(froms) >= 2, f"{path}: not multi-stage"
        assert all(arg.startswith("${PYTHON_IMAGE}") for arg in froms), froms


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_final_stage_runs_the_service_as_non_root(
    service: ServiceInfo, repo: Path, dockerfile_env: Callable[[Path], dict[str, str]]
) -> None:
    path = repo / "services" / service.name / "Dockerfile"
    final = _final_stage(path)
    user = [arg for name, arg in final if name == "USER"]
    assert user, "no USER in the final stage"
    assert user[-1].isdigit(), "USER should be numeric so Kubernetes can check runAsNonRoot"
    assert int(user[-1]) != 0
    entrypoint = [arg for name, arg in final if name == "ENTRYPOINT"]
    assert entrypoint == [f'["python", "-m", "{service.package}"]']
    assert [arg for name, arg in final if name == "CMD"] == ['["api"]']
    assert dockerfile_env(path)[f"{service.prefix}API_HOST"] == "0.0.0.0"
    exposed = {int(port) for name, arg in final if name == "EXPOSE" for port in arg.split()}
    assert exposed == {service.api_port} | ({service.worker_port} if service.worker_port else set())


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_healthcheck_probes_the_api_port(service: ServiceInfo, repo: Path) -> None:
    final = _final_stage(repo / "services" / service.name / "Dockerfile")
    healthcheck = " ".join(arg for name, arg in final if name == "HEALTHCHECK")
    assert f"os.environ.get('{service.prefix}API_PORT', '{service.api_port}')" in healthcheck
    assert "/healthz" in healthcheck


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_build_installs_the_service_and_its_own_libraries_with_the_constraints(
    service: ServiceInfo, repo: Path
) -> None:
    instructions = _instructions(repo / "services" / service.name / "Dockerfile")
    installs = [arg for name, arg in instructions if name == "RUN" and "pip install" in arg]
    assert len(installs) == 1
    words = installs[0].split()
    assert words[words.index("-c") + 1] == "constraints.txt"
    local = _local_packages(repo)
    project = tomllib.loads((repo / "services" / service.name / "pyproject.toml").read_text())["project"]
    # The service, its own libraries, and the operator's CLI (migration Jobs run `tally db migrate`).
    wanted = {f"services/{service.name}", local["tally-cli"]}
    wanted |= {local[dep] for dep in project["dependencies"] if dep in local}
    wanted |= {local[dep] for path in list(wanted) for dep in _dependencies(repo / path) if dep in local}
    assert {word.removeprefix("./") for word in words if word.startswith("./")} == wanted
    copied = {arg.split()[0].rstrip("/") for name, arg in instructions if name == "COPY" and "--from" not in arg}
    assert copied == wanted | {"constraints.txt"}, "the image should copy only what it installs"


def _dependencies(folder: Path) -> list[str]:
    deps: list[str] = tomllib.loads((folder / "pyproject.toml").read_text())["project"]["dependencies"]
    return deps


def test_build_context_leaves_out_local_state(repo: Path) -> None:
    ignored = set((repo / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tally", "**/tests", "**/*.egg-info"} <= ignored
