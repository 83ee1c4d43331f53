"""Billing events produced onto the real topic, applied by the worker, read through the api: the MRR bridge and
the summary against values worked out by hand, duplicates and arrival order changing nothing, CSV, and 422s."""

import csv
import io
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
from contracts.invoices import InvoiceVoidedEvent
from contracts.topics import BILLING_EVENTS, dlq_topic
from tally_stack.testing import consume_all, eventually, produce


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def history_of_three(history: Any) -> None:
    """A: monthly 49 in January, 99 from 10 March, canceled 1 May, back at 49 on 15 July.
    B: trial from 1 February, paying 29 from 15 February, past due from 1 April (counted 30 days), paying again
    3 June. C: yearly 1,200 (100 a month) from 1 March, down to 720 (60 a month) on 1 June."""
    h = history
    a, b, c = h.customer("2025-01-05"), h.customer("2025-02-01"), h.customer("2025-03-01")
    sa = h.subscription(a, "2025-01-05", "starter", 4900)
    h.change(a, sa, "2025-03-10", "pro", 9900)
    h.change(a, sa, "2025-05-01", "pro", 0, status="canceled", change="canceled")
    h.subscription(a, "2025-07-15", "starter", 4900)
    sb = h.subscription(b, "2025-02-01", "basic", 0, status="trialing")
    h.change(b, sb, "2025-02-15", "basic", 2900, change="status_changed")
    h.change(b, sb, "2025-04-01", "basic", 2900, status="past_due")
    h.change(b, sb, "2025-06-03", "basic", 2900, change="status_changed")
    sc = h.subscription(c, "2025-03-01", "yearly", 10000, interval="year")
    h.change(c, sc, "2025-06-01", "yearly-lite", 6000, interval="year")
    h.invoice(a, "2025-02-01", 1500)
    h.invoice(c, "2025-03-15", 300, paid=False)


EXPECTED_MONTHS = [
    # month, opening, new, expansion, contraction, churned, reactivation, closing, usage, customers
    ("2025-01", 0, 4900, 0, 0, 0, 0, 4900, 0, (0, 1, 0, 0, 1)),
    ("2025-02", 4900, 2900, 0, 0, 0, 0, 7800, 1500, (1, 1, 0, 0, 2)),
    ("2025-03", 7800, 10000, 5000, 0, 0, 0, 22800, 300, (2, 1, 0, 0, 3)),
    ("2025-04", 22800, 0, 0, 0, 0, 0, 22800, 0, (3, 0, 0, 0, 3)),
    ("2025-05", 22800, 0, 0, 0, 12800, 0, 10000, 0, (3, 0, 2, 0, 1)),
    ("2025-06", 10000, 0, 0, 4000, 0, 2900, 8900, 0, (1, 0, 0, 1, 2)),
    ("2025-07", 8900, 0, 0, 0, 0, 4900, 13800, 0, (2, 0, 0, 1, 3)),
]


def as_tuple(month: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("month", "opening_mrr", "new", "expansion", "contraction", "churned", "reactivation", "closing_mrr")
    counts = month["customers"]
    return (*(month[k] for k in keys), month["usage_revenue"], tuple(counts[k] for k in counts))


async def bridge_months(api: httpx.AsyncClient, currency: str, first: str, last: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/metrics/mrr", params={"from": first, "to": last, "currency": currency})
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == currency
    months: list[dict[str, Any]] = response.json()["months"]
    return months


async def bridge(api: httpx.AsyncClient, currency: str) -> list[tuple[Any, ...]]:
    return [as_tuple(m) for m in await bridge_months(api, currency, "2025-01", "2025-07")]


async def settled(api: httpx.AsyncClient, currency: str) -> None:
    """Every event of `history_of_three` applied (the bridge shows them all, usage revenue included)."""

    async def complete() -> None:
        assert await bridge(api, currency) == EXPECTED_MONTHS

    await eventually(complete)


async def test_the_bridge_matches_the_hand_computed_months(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    history_of_three(history)
    shuffled = history.events[:]
    random.Random(6).shuffle(shuffled)  # arrival order must not matter, effective time does
    await history.publish(shuffled)

    async def settled() -> None:
        assert await bridge(analytics_api, history.currency) == EXPECTED_MONTHS

    await eventually(settled)
    await history.publish()  # every event again: applied once
    await history.publish(history.events[-2:])
    summary_before = (
        await analytics_api.get("/v1/metrics/summary", params={"as_of": "2025-06-30", "currency": history.currency})
    ).json()
    await eventually(settled, seconds=3)
    after = await analytics_api.get("/v1/metrics/summary", params={"as_of": "2025-06-30", "currency": history.currency})
    assert after.json() == summary_before


async def test_the_summary_of_june_and_may(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    history_of_three(history)
    await history.publish()
    await settled(analytics_api, history.currency)

    response = await analytics_api.get(
        "/v1/metrics/summary", params={"as_of": "2025-06-30", "currency": history.currency}
    )
    assert response.status_code == 200, response.text
    s = response.json()
    assert s["mrr"]["value"] == 8900
    assert s["period"] == {"start": "2025-06-01", "end": "2025-06-30"}
    assert s["previous_period"] == {"start": "2025-05-01", "end": "2025-05-31"}
    assert (s["arr"]["value"], s["active_customers"]["value"], s["arpa"]["value"]) == (106800, 2, 4450)
    assert Decimal(s["customer_churn_rate"]["value"]) == 0
    assert Decimal(s["gross_mrr_churn_rate"]["value"]) == Decimal("0.4")  # 4,000 contraction / 10,000
    assert Decimal(s["net_mrr_churn_rate"]["value"]) == Decimal("0.11")  # (4,000 - 2,900 reactivation) / 10,000
    assert Decimal(s["nrr"]["value"]) == Decimal("0.6") == Decimal(s["grr"]["value"])
    assert s["ltv"]["value"] is None  # nobody churned in June
    # May: A (99) and B (29, past due for 30 days) churned out of three paying customers.
    assert (s["mrr"]["previous"], s["active_customers"]["previous"]) == (10000, 1)
    assert Decimal(s["customer_churn_rate"]["previous"]) == Decimal("0.6667")
    assert Decimal(s["gross_mrr_churn_rate"]["previous"]) == Decimal("0.5614")  # 12,800 / 22,800
    assert s["ltv"]["previous"] == 15000  # ARPA 10,000 / (2/3)
    february = await analytics_api.get(
        "/v1/metrics/summary", params={"as_of": "2025-02-28", "currency": history.currency}
    )
    assert Decimal(february.json()["trial_conversion_rate"]["value"]) == 1


async def test_tables_answer_csv_and_bad_parameters_get_422(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    history_of_three(history)
    await history.publish()
    params = {"from": "2025-01", "to": "2025-07", "currency": history.currency}

    await settled(analytics_api, history.currency)
    response = await analytics_api.get("/v1/metrics/mrr", params=params, headers={"accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["month"], int(r["closing_mrr"]), int(r["customers.closing"])) for r in rows] == [
        (m[0], m[7], m[9][4]) for m in EXPECTED_MONTHS
    ]
    for path, query, field in [
        ("/v1/metrics/mrr", {"from": "2025-13"}, "query.from"),
        ("/v1/metrics/mrr", {"from": "2025-05", "to": "2025-01"}, "query.to"),
        ("/v1/metrics/summary", {"as_of": "2025-02-30"}, "query.as_of"),
        ("/v1/metrics/cohorts", {"kind": "gross"}, "query.kind"),
        ("/v1/metrics/revenue", {"group_by": "region"}, "query.group_by"),
        ("/v1/metrics/summary", {"currency": "usd"}, "query.currency"),
    ]:
        bad = await analytics_api.get(path, params=query)
        assert bad.status_code == 422, (path, query)
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["field"] == field


async def test_cohorts_revenue_and_customers(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    history_of_three(history)
    await history.publish()
    params = {"from": "2025-01", "to": "2025-07", "currency": history.currency}

    await settled(analytics_api, history.currency)
    logo = (await analytics_api.get("/v1/metrics/cohorts", params=params | {"kind": "logo"})).json()
    assert sum(c["customers"] for c in logo["cohorts"]) == 3
    # January: A, gone in May and June, back in July. February: B, lost in May, back in June.
    january = next(c for c in logo["cohorts"] if c["cohort"] == "2025-01")
    assert [cell["value"] for cell in january["cells"]] == [1, 1, 1, 1, 0, 0, 1]
    february = next(c for c in logo["cohorts"] if c["cohort"] == "2025-02")
    assert [cell["value"] for cell in february["cells"]] == [1, 1, 1, 0, 1, 1]
    revenue = await analytics_api.get("/v1/metrics/cohorts", params=params | {"kind": "revenue"})
    march = next(c for c in revenue.json()["cohorts"] if c["cohort"] == "2025-03")
    assert [cell["value"] for cell in march["cells"]] == [10000, 10000, 10000, 6000, 6000]
    assert march["cells"][3]["retention"] == "0.6000"

    by_month = (await analytics_api.get("/v1/metrics/revenue", params=params | {"group_by": "month"})).json()
    usage = {row["key"]: row["usage"] for row in by_month["rows"]}
    assert (usage["2025-02"], usage["2025-03"], usage["2025-04"]) == (1500, 300, 0)
    assert {row["key"]: row["collected"] for row in by_month["rows"]}["2025-02"] == 0  # paid, no payment event
    by_plan = (await analytics_api.get("/v1/metrics/revenue", params=params | {"group_by": "plan"})).json()
    mrr = {row["key"]: row["mrr"] for row in by_plan["rows"]}
    assert mrr == {"starter": 4900, "basic": 2900, "yearly-lite": 6000, "": 0}  # "pro" ended with nothing billed
    assert {row["key"]: row["usage"] for row in by_plan["rows"]}[""] == 1800  # invoices without a subscription

    listed: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await analytics_api.get(
            "/v1/metrics/customers",
            params={"currency": history.currency, "limit": 2} | ({"after": cursor} if cursor else {}),
        )
        listed += page.json()["data"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted((c["mrr"], c["status"]) for c in listed) == [(2900, "active"), (4900, "active"), (6000, "active")]


async def test_an_undecodable_message_goes_to_the_dlq_and_the_rest_is_applied(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any, analytics_settings: Any
) -> None:
    customer = history.customer("2025-03-01")
    history.subscription(customer, "2025-03-01", "starter", 4900)
    marker = f"broken-{uuid4().hex}".encode()
    await produce(history.bootstrap, BILLING_EVENTS, [(customer.encode(), b'{"type": "tally.invoice.paid", ' + marker)])
    await history.publish()

    async def applied() -> None:
        months = await bridge_months(analytics_api, history.currency, "2025-03", "2025-03")
        assert months[0]["closing_mrr"] == 4900

    await eventually(applied)

    async def dead_lettered() -> None:
        # Every consumer group that reads the topic sends it (other tests' workers may run); a batch redelivered
        # after a failure sends it again: at least once.
        ours = f"{analytics_settings.consumer_group}-billing".encode()
        dead = await consume_all(history.bootstrap, dlq_topic(BILLING_EVENTS))
        records = [r for r in dead if marker in (r.value or b"") and dict(r.headers)["tally-dlq-consumer"] == ours]
        assert records
        assert all(b"JSON" in dict(record.headers)["tally-dlq-reason"] for record in records)

    await eventually(dead_lettered)


async def test_a_voided_invoice_leaves_usage_revenue_and_an_old_status_does_not_revive_it(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    customer = history.customer("2025-03-01")
    subscription = history.subscription(customer, "2025-03-01", "starter", 4900)
    history.invoice(customer, "2025-03-10", 700)
    voided_id = history.invoice(customer, "2025-03-20", 300, paid=False)
    finalized = next(e for e in history.events if getattr(e.data, "invoice_id", None) == voided_id)
    voided_data = finalized.data.model_copy(update={"status": "void", "changed_at": at("2025-03-25")})
    voided = InvoiceVoidedEvent.of(f"evt_{uuid4().hex}", voided_data, source="test", time=at("2025-03-25"))
    await history.publish()
    await history.publish([voided])
    await history.publish([finalized.model_copy(update={"id": f"evt_{uuid4().hex}"})])  # late, older status
    history.change(customer, subscription, "2025-03-28", "pro", 9900)
    await history.publish(history.events[-1:])  # after the rest on the customer's partition: all applied once seen

    async def usage() -> None:
        months = await bridge_months(analytics_api, history.currency, "2025-03", "2025-03")
        assert (months[0]["closing_mrr"], months[0]["usage_revenue"]) == (9900, 700)
        revenue = await analytics_api.get(
            "/v1/metrics/revenue", params={"from": "2025-03", "to": "2025-03", "currency": history.currency}
        )
        assert revenue.json()["rows"][0]["usage"] == 700

    await eventually(usage)


async def test_each_line_goes_to_the_plan_its_subscription_was_on_when_its_period_began(
    analytics_api: httpx.AsyncClient, analytics_worker: None, history: Any
) -> None:
    h = history
    a, b = h.customer("2025-01-01"), h.customer("2025-01-01")
    sa = h.subscription(a, "2025-01-05", "starter", 4900)
    h.change(a, sa, "2025-03-10", "pro", 9900)
    sb = h.subscription(b, "2025-01-05", "basic", 2900)
    h.invoice(a, "2025-01-01", 1, subscription_id=sa)  # before the subscription's first segment: no plan
    h.invoice(a, "2025-02-01", 10, subscription_id=sa)
    h.invoice(a, "2025-03-09", 100, subscription_id=sa)
    h.invoice(a, "2025-03-10", 1000, subscription_id=sa)  # the day the plan changed: the new plan's
    h.invoice(b, "2025-03-10", 10000, subscription_id=sb)
    await h.publish()
    params = {"group_by": "plan", "from": "2025-01", "to": "2025-03", "currency": h.currency}

    async def attributed() -> None:
        rows = (await analytics_api.get("/v1/metrics/revenue", params=params)).json()["rows"]
        assert {row["key"]: row["usage"] for row in rows} == {"": 1, "starter": 110, "pro": 1000, "basic": 10000}

    await eventually(attributed)
