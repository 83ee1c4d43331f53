"""`python -m analytics rebuild` empties the billing projections and replays the topic: every metric endpoint
answers exactly as before."""

import asyncio
import os
import sys
from typing import Any

import httpx
from analytics.config import AnalyticsSettings
from tally_stack.testing import eventually


async def answers(api: httpx.AsyncClient, currency: str) -> list[Any]:
    months = {"from": "2025-01", "to": "2025-07", "currency": currency}
    queries = [
        ("/v1/metrics/mrr", months),
        ("/v1/metrics/summary", {"as_of": "2025-06-30", "currency": currency}),
        ("/v1/metrics/summary", {"as_of": "2025-03-17", "currency": currency}),
        ("/v1/metrics/cohorts", months | {"kind": "logo"}),
        ("/v1/metrics/cohorts", months | {"kind": "revenue"}),
        ("/v1/metrics/revenue", months | {"group_by": "month"}),
        ("/v1/metrics/revenue", months | {"group_by": "plan"}),
        ("/v1/metrics/customers", {"currency": currency}),
    ]
    found = []
    for path, params in queries:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


async def test_a_rebuild_gives_identical_answers(
    analytics_api: httpx.AsyncClient, analytics_worker: None, analytics_settings: AnalyticsSettings, history: Any
) -> None:
    a, b = history.customer("2025-01-03"), history.customer("2025-02-11")
    sa = history.subscription(a, "2025-01-03", "starter", 4900)
    history.change(a, sa, "2025-04-20", "pro", 9900)
    sb = history.subscription(b, "2025-02-11", "yearly", 8333, interval="year")
    history.change(b, sb, "2025-05-11", "yearly", 0, status="canceled", change="canceled")
    history.invoice(a, "2025-03-01", 700)
    history.invoice(b, "2025-03-01", 250, paid=False)
    await history.publish()

    async def loaded() -> list[Any]:
        found = await answers(analytics_api, history.currency)
        assert found[0]["months"][-1]["closing_mrr"] == 9900
        assert len(found[-1]["data"]) == 2
        by_month = {row["key"]: row for row in found[5]["rows"]}
        assert (by_month["2025-03"]["usage"], by_month["2025-03"]["collected"]) == (950, 0)
        return found

    before = await eventually(loaded)
    env = os.environ | {
        "ANALYTICS_DATABASE_URL": analytics_settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": analytics_settings.kafka_bootstrap_servers,
        "ANALYTICS_CONSUMER_GROUP": analytics_settings.consumer_group,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "analytics", "rebuild", env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0
    assert b"rebuilt from billing.events.v1" in output
    assert b"mrr_segments" in output
    assert await answers(analytics_api, history.currency) == before
