"""Usage events on the real broker, through the analytics worker, answered by the analytics API."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from contracts.topics import USAGE_EVENTS, dlq_topic
from tally_stack.testing import consume_all, eventually

pytestmark = pytest.mark.usefixtures("analytics_worker")


def moment(day: date, hours: float = 12) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(hours=hours)


async def get_ok(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_trend_counts_each_event_once_by_its_own_day(
    analytics_api: httpx.AsyncClient, history: Any, usage_feed: Any, quiet_monday: date
) -> None:
    customer = history.customer(quiet_monday.isoformat())
    await history.publish()
    external, feature, ghost = f"ext_{customer}", f"export_{uuid4().hex[:8]}", f"ghost_{uuid4().hex[:8]}"
    week = [quiet_monday + timedelta(days=n) for n in range(0, 28, 7)]  # four Mondays
    first = usage_feed.event(external, feature, moment(week[1]))
    usage_feed.event(external, feature, moment(week[1], 30))  # Tuesday of week 2, sent in a batch-free record
    usage_feed.batch(external, [(feature, moment(week[1], 40)), (feature, moment(week[3]))])
    usage_feed.event(external, feature, moment(week[1]), event_id=first)  # resent: counted once
    usage_feed.event(external, feature, moment(week[0]))  # late and out of order: counted in week 1
    usage_feed.event(external, f"other_{uuid4().hex[:6]}", moment(week[0]))
    usage_feed.event(ghost, feature, moment(week[2]))  # no customer has this external id yet
    await usage_feed.publish()
    params = {"feature": feature, "from": week[0].isoformat(), "to": (week[3] + timedelta(days=6)).isoformat()}

    async def counted() -> Any:
        body = await get_ok(analytics_api, f"/v1/customers/{customer}/usage-trend", **params, period="week")
        assert [p["events"] for p in body["features"][0]["points"]] == [1, 3, 0, 1]
        return body

    body = await eventually(counted)
    assert (body["customer_id"], body["external_id"]) == (customer, external)
    (trend,) = body["features"]  # only the feature asked for
    assert trend["event_type"] == feature and trend["total"] == 5
    # x = 0..3 (mean 1.5), y = 1,3,0,1 (mean 1.25): sum dx*dy = 0.375 - 0.875 - 0.625 - 0.375 = -1.5; sum dx^2 = 5
    assert trend["slope"] == pytest.approx(-1.5 / 5)
    assert (trend["first_half"], trend["second_half"], trend["change_pct"]) == (4, 1, -75.0)
    by_external = await get_ok(analytics_api, f"/v1/customers/{external}/usage-trend", **params, period="week")
    assert by_external["features"] == body["features"] and by_external["customer_id"] == customer
    daily = (await get_ok(analytics_api, f"/v1/customers/{customer}/usage-trend", **params, period="day"))["features"]
    assert len(daily[0]["points"]) == 28 and sum(p["events"] for p in daily[0]["points"]) == 5

    async def ghost_counted() -> None:
        unknown = await get_ok(analytics_api, f"/v1/customers/{ghost}/usage-trend", **params, period="week")
        assert unknown["customer_id"] == ghost and unknown["features"][0]["total"] == 1

    await eventually(ghost_counted)
    missing = await analytics_api.get(f"/v1/customers/cus_{uuid4().hex[:10]}/usage-trend", params=params)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    csv = await analytics_api.get(
        f"/v1/customers/{customer}/usage-trend", params=params | {"period": "week"}, headers={"Accept": "text/csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [
        "event_type,period,events",
        *(f"{feature},{day.isoformat()},{n}" for day, n in zip(week, [1, 3, 0, 1], strict=True)),
    ]


async def test_bad_ranges_are_422_naming_the_field(analytics_api: httpx.AsyncClient) -> None:
    response = await analytics_api.get("/v1/usage/features", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.to"
    response = await analytics_api.get("/v1/usage/features", params={"period": "fortnight"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.period"


async def test_adoption_and_correlations_over_a_cohort(
    analytics_api: httpx.AsyncClient, history: Any, usage_feed: Any, quiet_monday: date
) -> None:
    month = quiet_monday.replace(day=1) + timedelta(days=40)
    month = month.replace(day=1)  # a whole calendar month after the quiet Monday
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    feature, rare = f"report_{uuid4().hex[:8]}", f"sso_{uuid4().hex[:8]}"
    before, churn_day = (month - timedelta(days=10)).isoformat(), (month_end + timedelta(days=10)).isoformat()
    for index in range(40):
        customer = history.customer(before)
        retained = index < 20
        subscription = history.subscription(customer, before, "pro", 1000 * (index + 1) if retained else 500)
        if not retained:
            history.change(customer, subscription, churn_day, "pro", 0, status="canceled", change="canceled")
        uses = 5 + index if retained else (1 if index < 30 else 0)  # retained heavy users; 10 light; 10 none
        if uses:
            usage_feed.batch(f"ext_{customer}", [(feature, moment(month, n)) for n in range(uses)])
        if index % 8 == 0:
            usage_feed.event(f"ext_{customer}", rare, moment(month + timedelta(days=3)))
    await history.publish()
    await usage_feed.publish()
    params = {"from": month.isoformat(), "to": month_end.isoformat(), "period": "month", "currency": history.currency}

    async def projected() -> Any:
        body = await get_ok(analytics_api, "/v1/usage/features", **params)
        features = {f["event_type"]: f for f in body["features"]}
        assert feature in features and rare in features
        assert features[feature]["periods"][0]["customers"] == 30
        assert features[feature]["retention"]["n"] == 40
        assert features[rare]["periods"][0]["customers"] == 5
        return features

    features = await eventually(projected)
    (point,) = features[feature]["periods"]
    assert (point["period"], point["active_customers"], point["adoption"]) == (month.isoformat(), 40, 0.75)
    assert point["events"] == sum(5 + i for i in range(20)) + 10
    assert features[rare]["periods"][0]["adoption"] == 0.125
    retention, revenue = features[feature]["retention"], features[feature]["revenue"]
    assert retention["rho"] > 0.8 and retention["p_value"] < 0.001 and retention["reason"] is None
    assert revenue["rho"] > 0.8 and revenue["p_value"] < 0.001
    strict = await get_ok(analytics_api, "/v1/usage/features", **params, min_sample=50)
    claim = {f["event_type"]: f for f in strict["features"]}[feature]["retention"]
    assert claim["rho"] is None and claim["n"] == 40 and "40 < 50" in claim["reason"]


async def test_an_invalid_message_goes_to_the_dlq_and_the_partition_moves_on(
    analytics_api: httpx.AsyncClient, analytics_settings: Any, usage_feed: Any, quiet_monday: date
) -> None:
    customer, feature = f"dlq_{uuid4().hex[:8]}", f"ping_{uuid4().hex[:8]}"
    bad = b'{"specversion": "1.0", "id": "' + uuid4().hex.encode() + b'", "type": "tally.usage.recorded"}'
    usage_feed.records.append((customer.encode(), bad))
    usage_feed.event(customer, feature, moment(quiet_monday))
    await usage_feed.publish()
    params = {"from": quiet_monday.isoformat(), "to": quiet_monday.isoformat(), "period": "day"}

    async def counted() -> None:
        body = await get_ok(analytics_api, f"/v1/customers/{customer}/usage-trend", **params)
        assert body["features"][0]["total"] == 1

    await eventually(counted)
    group = f"{analytics_settings.consumer_group}-usage"

    async def dead_lettered() -> None:
        records = await consume_all(analytics_settings.kafka_bootstrap_servers, dlq_topic(USAGE_EVENTS))
        ours = [r for r in records if r.value == bad and ("tally-dlq-consumer", group.encode()) in r.headers]
        assert len(ours) == 1

    await eventually(dead_lettered)
