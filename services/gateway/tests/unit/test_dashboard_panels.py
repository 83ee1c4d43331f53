from datetime import date

import pytest
from gateway.dashboard.panels import PanelSource, from_answer, months_back, sources


@pytest.mark.parametrize(
    ("today", "window"),
    [
        (date(2026, 11, 21), ("2025-12", "2026-11")),
        (date(2026, 12, 1), ("2026-01", "2026-12")),
        (date(2027, 1, 31), ("2026-02", "2027-01")),
    ],
)
def test_the_mrr_bridge_covers_the_last_twelve_months(today: date, window: tuple[str, str]) -> None:
    assert months_back(today, 12) == window
    assert sources(today)["mrr_bridge"].params == {"from": window[0], "to": window[1]}


def test_every_panel_has_a_source() -> None:
    assert set(sources(date(2026, 1, 1))) == {
        "kpis",
        "mrr_bridge",
        "revenue_by_plan",
        "at_risk_customers",
        "alerts",
        "usage_by_feature",
        "recent_invoices",
    }


SOURCE = PanelSource("analytics", "/v1/alerts", not_yet="it arrives later")


def test_answers_become_panels() -> None:
    assert from_answer(SOURCE, "analytics", 200, {"a": 1}).status == "ok"
    missing = from_answer(SOURCE, "analytics", 404, None)
    assert (missing.status, missing.detail) == (
        "unavailable",
        "analytics does not serve /v1/alerts yet; it arrives later",
    )
    assert from_answer(SOURCE, "analytics", 503, None).status == "unavailable"
    assert from_answer(SOURCE, "analytics", 500, {"x": 1}).detail == "analytics answered 500"
    assert from_answer(SOURCE, "analytics", 200, None).status == "error"
    assert from_answer(SOURCE, "analytics", 401, None).status == "error"
