"""Usage for a period already invoiced: within the grace window it goes on the next invoice as a labelled
adjustment; after the period is settled it is kept as rejected-late and shown, never billed and never lost."""

from datetime import UTC, datetime, timedelta
from typing import Any

from billing.invoices import closing, late_usage
from billing.usage.repository import lock_meter_set, record_events

GRACE = timedelta(hours=72)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


async def consume(kit: Any, customer_key: str, event_type: str, event_ids: list[str], when: datetime) -> None:
    """As the usage consumer does, in one transaction: record the events, then reject those for settled periods."""
    events = [(customer_key, event_id, event_type, when, {}) for event_id in event_ids]
    async with kit.sessions() as session, session.begin():
        await lock_meter_set(session, exclusive=False)
        await record_events(session, events)
        await late_usage.reject_settled(session, {customer_key})


async def lines_of(kit: Any, customer_id: str, period_start: str) -> list[dict[str, Any]]:
    invoices = (await kit.api.get("/v1/invoices", params={"customer_id": customer_id})).json()["data"]
    [closing_invoice] = [
        i
        for i in invoices
        if i["period_start"] == period_start and any(line["kind"] != "base_fee" for line in i["lines"])
    ]
    return [line for line in closing_invoice["lines"] if line["kind"] != "base_fee"]


async def test_late_usage_is_an_adjustment_until_settled_then_rejected(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter)  # 5 included, then 10 minor units each
    acme = await kit.customer()
    key = acme["external_id"]
    response = await kit.api.post(
        "/v1/subscriptions", json={"customer_id": acme["id"], "plan_key": plan, "start_date": "2026-01-01"}
    )
    assert response.status_code == 201, response.text
    await consume(kit, key, event_type, [f"jan-{n}" for n in range(8)], at("2026-01-10"))
    await closing.close_due(kit.sessions, at("2026-02-01T00:05"))
    [january] = await lines_of(kit, acme["id"], "2026-01-01T00:00:00Z")
    assert (january["quantity"], january["amount_minor"]) == ("8", 30)

    await consume(kit, key, event_type, ["late-1", "late-2"], at("2026-01-20"))  # arrives after the invoice
    await late_usage.settle_due(kit.sessions, at("2026-02-03"), GRACE)  # the grace window is still open: nothing
    await late_usage.settle_due(kit.sessions, at("2026-02-04T00:05"), GRACE)
    await consume(kit, key, event_type, ["too-late", "late-1"], at("2026-01-25"))  # settled: rejected (and a resend)
    await late_usage.settle_due(kit.sessions, at("2026-02-10"), GRACE)  # settles once
    await closing.close_due(kit.sessions, at("2026-03-01T00:05"))

    february = await lines_of(kit, acme["id"], "2026-02-01T00:00:00Z")
    adjustment = [line for line in february if line["kind"] == "adjustment"]
    assert [(line["description"], line["amount_minor"]) for line in adjustment] == [
        (f"Late usage, 2026-01-01 to 2026-02-01: {meter} 8 -> 10 units", 20)
    ]
    rejected = (await kit.api.get(f"/v1/customers/{key}/late-usage")).json()["data"]
    assert [(r["event_id"], r["event_type"], r["occurred_at"]) for r in rejected] == [
        ("too-late", event_type, "2026-01-25T00:00:00Z")
    ]
    report = await kit.api.get(
        f"/v1/customers/{key}/usage", params={"meter": meter, "from": "2026-01-01", "to": "2026-02-01"}
    )
    assert report.json()["total"] == 11  # kept and reported, only not billed
