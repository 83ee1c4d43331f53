"""RFM segments from usage and paid invoices consumed from the real broker."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tally_stack.testing import eventually

pytestmark = pytest.mark.usefixtures("analytics_worker")


async def test_rfm_scores_and_segments_by_hand(
    analytics_api: httpx.AsyncClient, history: Any, usage_feed: Any, quiet_monday: date
) -> None:
    as_of = quiet_monday + timedelta(days=120)
    feature = f"edit_{uuid4().hex[:8]}"
    # name -> (days before as_of of the last activity, active days, paid minor units); E has no customer record
    plan = {"A": (1, 20, 5000), "B": (3, 10, 3000), "C": (10, 5, 1000), "D": (40, 8, 4000), "E": (90, 1, 0)}
    ids: dict[str, str] = {}
    for name, (recency, active_days, paid) in plan.items():
        if name == "E":
            ids[name] = key = f"ghost_{uuid4().hex[:8]}"
        else:
            ids[name] = customer = history.customer((as_of - timedelta(days=100)).isoformat())
            key = f"ext_{customer}"
            history.invoice(customer, (as_of - timedelta(days=recency)).isoformat(), paid)
        # B's last active day is its invoice's alone (no usage that day): paid days count as active days too
        skip = 1 if name == "B" else 0
        days = [as_of - timedelta(days=recency + n) for n in range(skip, active_days)]
        usage_feed.batch(key, [(feature, datetime.combine(day, time(9), UTC)) for day in days])
    await history.publish()
    await usage_feed.publish()
    params = {"as_of": as_of.isoformat(), "lookback_days": 100, "currency": history.currency}

    async def scored() -> Any:
        response = await analytics_api.get("/v1/segments/rfm", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["customers_scored"] == 5
        assert sum(c["monetary_minor"] for c in body["customers"]) == 13000
        return body

    body = await eventually(scored)
    assert body["thresholds"]["recency_days"] == [1, 3, 10, 40]
    assert body["thresholds"]["frequency"] == [1, 5, 8, 10]
    assert body["thresholds"]["monetary_minor"] == [0, 1000, 3000, 4000]
    assert body["thresholds"]["rules"][0] == {"segment": "Champions", "r": [4, 5], "fm": [4, 5]}
    by_id = {c["customer_id"]: c for c in body["customers"]}
    got = {name: (by_id[i]["r"], by_id[i]["f"], by_id[i]["m"], by_id[i]["segment"]) for name, i in ids.items()}
    assert got == {
        "A": (5, 5, 5, "Champions"),
        "B": (4, 4, 3, "Champions"),
        "C": (3, 2, 2, "Potential loyalists"),
        "D": (2, 3, 4, "At risk"),
        "E": (1, 1, 1, "Hibernating"),
    }
    assert body["counts"] == {
        "Champions": 2,
        "Loyal": 0,
        "Potential loyalists": 1,
        "At risk": 1,
        "Can't lose them": 0,
        "Hibernating": 1,
    }
    only = (await analytics_api.get("/v1/segments/rfm", params=params | {"segment": "At risk"})).json()
    assert [c["customer_id"] for c in only["customers"]] == [ids["D"]] and only["counts"] == body["counts"]
    csv = await analytics_api.get("/v1/segments/rfm", params=params, headers={"Accept": "text/csv"})
    lines = csv.text.splitlines()
    assert lines[0] == "customer_id,recency_days,frequency,monetary_minor,r,f,m,fm,segment"
    assert f"{ids['D']},40,8,4000,2,3,4,4,At risk" in lines and len(lines) == 6
    bad = await analytics_api.get("/v1/segments/rfm", params={"segment": "Whales"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.segment"
