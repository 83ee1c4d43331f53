"""The Grafana dashboard in deploy/grafana: valid, and every metric it charts is one the processes export."""

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY
from tally_runtime import metrics  # noqa: F401 (registers Tally's metrics)

DASHBOARD = Path(__file__).resolve().parents[1] / "grafana" / "tally-operations.json"
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name, *(family.name + suffix for suffix in SUFFIXES)}
    return names


def test_every_panel_charts_metrics_the_processes_export() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"]
    known = exported()
    for panel in dashboard["panels"]:
        [target] = panel["targets"]
        used = set(re.findall(r"\b((?:tally|http)_[a-z_]+)\b", target["expr"]))
        assert used and used <= known, (panel["title"], used - known)
