"""Funnels over usage events consumed from the real broker."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tally_stack.testing import eventually

pytestmark = pytest.mark.usefixtures("analytics_worker")


async def test_funnel_counts_conversion_drop_off_and_median_times(
    analytics_api: httpx.AsyncClient, usage_feed: Any, quiet_monday: date
) -> None:
    start = datetime.combine(quiet_monday, time(), UTC)
    tag = uuid4().hex[:8]
    signup, call, upgrade = f"signup_{tag}", f"api_call_{tag}", f"upgrade_{tag}"
    hour = timedelta(hours=1)
    journeys = {
        "a": [(signup, 0), (call, 1), (upgrade, 3)],  # all three: 1 h, then 2 h
        "b": [(signup, 0), (call, 3), (upgrade, 4)],  # all three: 3 h, then 1 h
        "c": [(signup, 0), (upgrade, 1), (call, 5)],  # upgrade before the call does not count: two steps, 5 h
        "d": [(signup, 0), (call, 24 * 8)],  # the call after the 7-day window: first step only
        "e": [(call, 0), (upgrade, 1)],  # never entered
        "f": [(signup, -24), (call, 1)],  # entered before `from`: not in this funnel
    }
    for name, events in journeys.items():
        for event_type, hours in events:
            usage_feed.event(f"{name}_{tag}", event_type, start + hours * hour)
    await usage_feed.publish()
    body = {
        "steps": [signup, call, upgrade],
        "within": "P7D",
        "from": start.isoformat(),
        "to": (start + 2 * hour).isoformat(),
    }

    async def walked() -> Any:
        response = await analytics_api.post("/v1/funnels/query", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert [step["customers"] for step in result["steps"]] == [4, 3, 2]
        return result

    steps = (await eventually(walked))["steps"]
    assert [s["drop_off"] for s in steps] == [0, 1, 1]
    assert [s["conversion_from_previous"] for s in steps] == [None, 0.75, round(2 / 3, 4)]
    assert [s["conversion_from_first"] for s in steps] == [None, 0.75, 0.5]
    assert steps[1]["drop_off_rate"] == 0.25
    assert steps[1]["median_seconds_from_previous"] == 3 * 3600  # median of 1, 3 and 5 hours
    assert steps[2]["median_seconds_from_previous"] == 1.5 * 3600  # of 2 and 1 hours
    in_seconds = await analytics_api.post("/v1/funnels/query", json=body | {"within": 7 * 24 * 3600})
    assert in_seconds.json()["steps"] == steps
    csv = await analytics_api.post("/v1/funnels/query", json=body, headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("step,event_type,customers,")
    assert len(csv.text.splitlines()) == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": ["signup"]}, "body.steps"),
        ({"within": "P0D"}, "body.within"),
        ({"to": "2026-01-01T00:00:00Z"}, "body.to"),
        ({"steps": ["signup", "not a type!"]}, "body.steps.1"),
        ({"bogus": 1}, "body.bogus"),
    ],
)
async def test_bad_queries_are_422_naming_the_field(
    analytics_api: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {
        "steps": ["signup", "upgrade"],
        "within": "P7D",
        "from": "2026-02-01T00:00:00Z",
        "to": "2026-03-01T00:00:00Z",
    }
    response = await analytics_api.post("/v1/funnels/query", json=body | change)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]
