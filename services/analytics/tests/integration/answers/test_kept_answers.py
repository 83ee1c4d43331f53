"""Kept answers through the real worker and topics: a repeated question is answered from the cache, a new event is
in the very next answer, a default that follows the calendar moves with it, and browsers revalidate with ETags."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from analytics.app import create_app
from analytics.config import AnalyticsSettings
from analytics.today import today
from prometheus_client import REGISTRY
from tally_stack.testing import eventually, serving

pytestmark = pytest.mark.usefixtures("analytics_worker")


def answered(path: str, outcome: str) -> float:
    labels = {"endpoint": path, "outcome": outcome}
    return REGISTRY.get_sample_value("tally_analytics_answers_total", labels) or 0.0


async def ask(api: httpx.AsyncClient, path: str, **params: Any) -> tuple[httpx.Response, str]:
    """The answer, and whether it was `kept` (from the cache) or `computed`."""
    kept = answered(path, "kept")
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response, "kept" if answered(path, "kept") > kept else "computed"


async def computed(api: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    response, outcome = await ask(api, path, **params)
    assert outcome == "computed", f"{path} {params} was not computed"
    return response


async def kept_when_asked_again(api: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    """Asked twice in a row, the second answer is the first, kept (asked again while other tests' writes to the
    shared projections land in between)."""

    async def twice() -> httpx.Response:
        first, _ = await ask(api, path, **params)
        second, outcome = await ask(api, path, **params)
        assert outcome == "kept" and second.content == first.content, f"{path} {params} was not kept"
        assert second.headers["etag"] == first.headers["etag"]
        return second

    return await eventually(twice)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


async def customer_mrr(api: httpx.AsyncClient, currency: str, customer: str) -> int | None:
    """From the customers list, which is never kept: what the projections hold now (None: no such customer yet)."""
    page = (await api.get("/v1/metrics/customers", params={"currency": currency})).json()
    return next((int(row["mrr"]) for row in page["data"] if row["id"] == customer), None)


async def test_a_new_billing_event_is_in_the_next_answer(analytics_api: httpx.AsyncClient, history: Any) -> None:
    customer = history.customer("2025-01-05")
    subscription = history.subscription(customer, "2025-01-05", "starter", 4900)
    await history.publish()

    async def applied() -> None:
        assert await customer_mrr(analytics_api, history.currency, customer) == 4900

    await eventually(applied)
    questions = {
        "/v1/metrics/summary": {"as_of": "2025-03-31"},
        "/v1/metrics/mrr": {"from": "2025-01", "to": "2025-03"},
        "/v1/metrics/revenue": {"group_by": "plan", "from": "2025-01", "to": "2025-03"},
    }
    first = {}
    for path, params in questions.items():
        first[path] = await computed(analytics_api, path, currency=history.currency, **params)
        await kept_when_asked_again(analytics_api, path, currency=history.currency, **params)
    assert first["/v1/metrics/summary"].json()["mrr"]["value"] == 4900
    assert first["/v1/metrics/mrr"].json()["months"][-1]["usage_revenue"] == 0

    history.events.clear()
    history.invoice(customer, "2025-02-01", 700)
    history.change(customer, subscription, "2025-03-10", "pro", 9900)  # after the invoice, on the same partition
    await history.publish()

    async def changed() -> None:
        assert await customer_mrr(analytics_api, history.currency, customer) == 9900

    await eventually(changed)
    now = {
        path: await computed(analytics_api, path, currency=history.currency, **params)
        for path, params in questions.items()
    }
    assert now["/v1/metrics/summary"].json()["mrr"]["value"] == 9900
    assert [m["usage_revenue"] for m in now["/v1/metrics/mrr"].json()["months"]] == [0, 700, 0]
    plans = {row["key"]: (row["usage"], row["mrr"]) for row in now["/v1/metrics/revenue"].json()["rows"]}
    assert plans == {"": (700, 0), "pro": (0, 9900)}
    assert all(now[path].headers["etag"] != first[path].headers["etag"] for path in questions)


async def test_a_new_usage_event_is_in_the_next_answer(
    analytics_api: httpx.AsyncClient, history: Any, usage_feed: Any, quiet_monday: date
) -> None:
    customer = history.customer(quiet_monday.isoformat())
    await history.publish()
    external, last = f"ext_{customer}", quiet_monday + timedelta(days=6)
    usage_feed.event(external, "search", noon(quiet_monday))
    await usage_feed.publish()
    trend = f"/v1/customers/{customer}/usage-trend"  # never kept: what the projections hold now
    window = {"from": quiet_monday.isoformat(), "to": last.isoformat(), "period": "week"}

    async def recorded(total: int) -> None:
        body = (await analytics_api.get(trend, params=window)).json()
        assert sum(feature["total"] for feature in body.get("features", [])) == total

    await eventually(lambda: recorded(1))
    before = await computed(analytics_api, "/v1/usage/features", **window)
    await kept_when_asked_again(analytics_api, "/v1/usage/features", **window)
    assert [f["event_type"] for f in before.json()["features"]] == ["search"]

    usage_feed.event(external, "export", noon(last))
    await usage_feed.publish()
    await eventually(lambda: recorded(2))
    after = await computed(analytics_api, "/v1/usage/features", **window)
    assert [f["event_type"] for f in after.json()["features"]] == ["export", "search"]


@pytest.fixture
async def calendar_api(analytics_settings: AnalyticsSettings) -> AsyncIterator[tuple[httpx.AsyncClient, list[date]]]:
    """An api of its own whose today is the last date in the list the test holds."""
    app = create_app(analytics_settings)
    days: list[date] = []
    app.dependency_overrides[today] = lambda: days[-1]
    async with serving(app, "http://analytics") as client:
        yield client, days


async def test_defaults_that_follow_the_calendar_move_at_midnight(
    analytics_api: httpx.AsyncClient, calendar_api: tuple[httpx.AsyncClient, list[date]], history: Any
) -> None:
    customer = history.customer("2025-03-01")
    subscription = history.subscription(customer, "2025-03-01", "starter", 4900)
    history.change(customer, subscription, "2025-04-01", "pro", 9900)
    await history.publish()

    async def applied() -> None:
        assert await customer_mrr(analytics_api, history.currency, customer) == 9900

    await eventually(applied)
    api, days = calendar_api
    currency = {"currency": history.currency}
    days.append(date(2025, 3, 31))
    march = await computed(api, "/v1/metrics/summary", **currency)
    assert (march.json()["as_of"], march.json()["mrr"]["value"]) == ("2025-03-31", 4900)
    assert (await computed(api, "/v1/metrics/mrr", **currency)).json()["months"][-1]["month"] == "2025-03"
    assert (await kept_when_asked_again(api, "/v1/metrics/summary", **currency)).json()["as_of"] == "2025-03-31"

    days.append(date(2025, 4, 1))  # midnight passed; nothing else changed
    april = await computed(api, "/v1/metrics/summary", **currency)
    assert (april.json()["as_of"], april.json()["mrr"]["value"]) == ("2025-04-01", 9900)
    assert april.content == (await ask(api, "/v1/metrics/summary", as_of="2025-04-01", **currency))[0].content
    assert (await computed(api, "/v1/metrics/mrr", **currency)).json()["months"][-1]["month"] == "2025-04"


async def test_browsers_revalidate_and_formats_are_kept_apart(analytics_api: httpx.AsyncClient, history: Any) -> None:
    customer = history.customer("2025-01-05")
    history.subscription(customer, "2025-01-05", "starter", 4900)
    await history.publish()

    async def applied() -> None:
        assert await customer_mrr(analytics_api, history.currency, customer) == 4900

    await eventually(applied)
    params = {"from": "2025-01", "to": "2025-02", "currency": history.currency}
    fresh = await analytics_api.get("/v1/metrics/mrr", params=params)
    assert fresh.headers["cache-control"] == "no-cache" and fresh.headers["vary"] == "Accept"
    etag = fresh.headers["etag"]
    unchanged = await analytics_api.get("/v1/metrics/mrr", params=params, headers={"if-none-match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", etag)
    other = await analytics_api.get("/v1/metrics/mrr", params=params, headers={"if-none-match": '"elsewhere"'})
    assert other.status_code == 200 and other.content == fresh.content
    table = await analytics_api.get("/v1/metrics/mrr", params=params, headers={"accept": "text/csv"})
    assert table.headers["content-type"] == "text/csv; charset=utf-8" and table.text.startswith("month,")
    assert "attachment" in table.headers["content-disposition"] and table.headers["etag"] != etag
    again = await analytics_api.get("/v1/metrics/mrr", params=params)
    assert again.headers["content-type"] == "application/json" and again.content == fresh.content


async def test_an_answer_larger_than_the_room_is_served_not_kept(
    analytics_settings: AnalyticsSettings, history: Any
) -> None:
    customer = history.customer("2025-01-05")
    history.subscription(customer, "2025-01-05", "starter", 4900)
    await history.publish()
    small = analytics_settings.model_copy(update={"answer_cache_bytes": 100})
    async with serving(create_app(small), "http://analytics") as api:

        async def applied() -> None:
            assert await customer_mrr(api, history.currency, customer) == 4900

        await eventually(applied)
        params = {"as_of": "2025-01-31", "currency": history.currency}
        first = await computed(api, "/v1/metrics/summary", **params)
        assert len(first.content) > 100 and first.json()["mrr"]["value"] == 4900
        assert (await computed(api, "/v1/metrics/summary", **params)).content == first.content
