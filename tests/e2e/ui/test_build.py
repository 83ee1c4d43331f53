"""The committed build of the dashboard (services/gateway/gateway/static) must come from the sources in
services/gateway/web: `make web` rebuilds it and records the sources' hash, recomputed here the same way."""

import hashlib
import json
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[3] / "services" / "gateway"
WEB, STATIC = GATEWAY / "web", GATEWAY / "gateway" / "static"


def sources_sha256(root: Path) -> str:
    """sha256 over "<posix path>\\n<sha256 of its bytes>\\n" for every file, sorted by path (scripts/stamp.mjs)."""
    files = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "node_modules" not in p.parts
    )
    lines = "".join(f"{name}\n{hashlib.sha256((root / name).read_bytes()).hexdigest()}\n" for name in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def test_the_committed_build_matches_the_sources() -> None:
    recorded = json.loads((STATIC / "build-info.json").read_text())["sources_sha256"]
    assert recorded == sources_sha256(WEB), "the dashboard's build is stale: run `make web` and commit gateway/static"


def test_the_build_loads_only_what_it_ships() -> None:
    """Every script, stylesheet and icon the page names is a file of the build: nothing from a CDN."""
    index = (STATIC / "index.html").read_text()
    for asset in ("src", "href"):
        for ref in index.split(f'{asset}="')[1:]:
            path = ref.split('"', 1)[0]
            assert path.startswith("/") and not path.startswith("//"), path
            assert (STATIC / path.lstrip("/")).is_file(), path
