from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.dashboard.panels import Status


class Panel(BaseModel):
    status: Status
    data: Any = Field(description="The owning service's JSON answer; null unless status is ok")
    detail: str | None = Field(description="Why the panel is not ok; null when it is")


class Panels(BaseModel):
    kpis: Panel
    mrr_bridge: Panel
    revenue_by_plan: Panel
    at_risk_customers: Panel
    alerts: Panel
    usage_by_feature: Panel
    recent_invoices: Panel


class Dashboard(BaseModel):
    generated_at: datetime
    panels: Panels
