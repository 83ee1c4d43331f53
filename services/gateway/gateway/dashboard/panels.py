"""Where each dashboard panel comes from, and what an upstream's answer means for the panel. Pure."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Status = Literal["ok", "unavailable", "timeout", "error"]


@dataclass(frozen=True)
class PanelSource:
    upstream: Literal["analytics", "billing"]
    path: str
    params: dict[str, str] = field(default_factory=dict)
    not_yet: str | None = None  # the service does not serve it yet (which issue brings it): not asked at all


def months_back(today: date, months: int) -> tuple[str, str]:
    """The window of the last `months` months, this one included, as (from, to) `YYYY-MM`."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}", f"{today.year:04d}-{today.month:02d}"


def sources(today: date) -> dict[str, PanelSource]:
    first, last = months_back(today, 12)
    later = "it arrives with the predictions-and-alerts issue"
    return {
        "kpis": PanelSource("analytics", "/v1/metrics/summary"),
        "mrr_bridge": PanelSource("analytics", "/v1/metrics/mrr", {"from": first, "to": last}),
        "revenue_by_plan": PanelSource("analytics", "/v1/metrics/revenue", {"group_by": "plan"}),
        "at_risk_customers": PanelSource("analytics", "/v1/customers/at-risk", not_yet=later),
        "alerts": PanelSource("analytics", "/v1/alerts", not_yet=later),
        "usage_by_feature": PanelSource("analytics", "/v1/usage/features"),
        "recent_invoices": PanelSource("billing", "/v1/invoices", {"limit": "10"}),
    }


@dataclass(frozen=True)
class PanelResult:
    status: Status
    data: Any = None
    detail: str | None = None


def not_served(source: PanelSource, service: str) -> PanelResult:
    why = f"; {source.not_yet}" if source.not_yet else ""
    return PanelResult("unavailable", None, f"{service} does not serve {source.path} yet{why}")


def from_answer(source: PanelSource, service: str, status_code: int, body: Any) -> PanelResult:
    """A panel from the upstream's status and its JSON body (None when it was not JSON): decoded, or as it came
    (`orjson.Fragment`), to be written into the page unchanged."""
    if 200 <= status_code < 300 and body is not None:
        return PanelResult("ok", body)
    if status_code in {404, 405}:
        return not_served(source, service)
    if status_code == 503:
        return PanelResult("unavailable", None, f"{service} answered 503 (not ready)")
    if 200 <= status_code < 300:
        return PanelResult("error", None, f"{service} answered {status_code} without JSON")
    return PanelResult("error", None, f"{service} answered {status_code}")
