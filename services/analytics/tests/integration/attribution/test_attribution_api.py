"""Revenue attributed to usage touchpoints, from both topics on the real broker."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tally_stack.testing import eventually

pytestmark = pytest.mark.usefixtures("analytics_worker")


async def test_linear_and_position_based_split_revenue_exactly(
    analytics_api: httpx.AsyncClient, history: Any, usage_feed: Any, quiet_monday: date
) -> None:
    paid_day = quiet_monday + timedelta(days=60)
    paid_at = datetime.combine(paid_day, time(), UTC)
    tag = uuid4().hex[:8]
    webinar, demo, trial = f"webinar_{tag}", f"demo_{tag}", f"trial_{tag}"
    # customer -> (amount paid on paid_day, [(touchpoint, days before)])
    plan = {
        "c1": (1000, [(webinar, 5), (demo, 2)]),
        "c2": (333, [(webinar, 40), (demo, 1)]),  # the webinar is outside the 30-day lookback
        "c3": (500, []),
        "c4": (1001, [(webinar, 3), (demo, 2), (trial, 1)]),
    }
    for amount, touches in plan.values():
        customer = history.customer((paid_day - timedelta(days=50)).isoformat())
        history.invoice(customer, paid_day.isoformat(), amount)
        for event_type, days in touches:
            usage_feed.event(f"ext_{customer}", event_type, paid_at - timedelta(days=days))
    await history.publish()
    await usage_feed.publish()
    body = {
        "model": "linear",
        "from": paid_at.isoformat(),
        "to": (paid_at + timedelta(days=1)).isoformat(),
        "touchpoints": [webinar, demo, trial],
        "lookback": "P30D",
    }

    async def attributed(model: str) -> dict[str, Any]:
        response = await analytics_api.post("/v1/attribution/query", json=body | {"model": model})
        assert response.status_code == 200, response.text
        found = [c for c in response.json()["currencies"] if c["currency"] == history.currency]
        assert len(found) == 1 and found[0]["conversions"] == 4
        ours = found[0]
        return {"total": ours["total_minor"], "unattributed": ours["unattributed"]} | {
            t["event_type"]: (t["revenue_minor"], t["conversions"], t["touches"]) for t in ours["touchpoints"]
        }

    # c4: 1001 / 3 = 333.67 each: 333 each and the 2 units left to the first two (equal remainders)
    expected = {
        "total": 2834,
        "unattributed": {"revenue_minor": 500, "conversions": 1},
        webinar: (500 + 334, round(1 / 2 + 1 / 3, 4), 2),
        demo: (500 + 333 + 334, round(1 / 2 + 1 + 1 / 3, 4), 3),
        trial: (333, round(1 / 3, 4), 1),
    }

    async def linear() -> None:  # once both topics' events are in (they arrive in either order)
        assert await attributed("linear") == expected

    await eventually(linear)
    # c4: 40/20/40 of 1001 = 400.4, 200.2, 400.4: the unit left goes to the first of the equal remainders
    positions = await attributed("position_based")
    assert positions[webinar][0] == 500 + 401 and positions[demo][0] == 500 + 333 + 200
    assert positions[trial][0] == 400
    first = await attributed("first_touch")
    assert (first[webinar][0], first[demo][0]) == (1000 + 1001, 333)
    decay = await attributed("time_decay")
    assert sum(v[0] for k, v in decay.items() if k not in {"total", "unattributed"}) + 500 == 2834
    bad = await analytics_api.post("/v1/attribution/query", json=body | {"model": "w_shaped"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.model"
