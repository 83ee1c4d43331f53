import random
from datetime import UTC, datetime, timedelta

from tally_stack.demo import CUSTOMERS, make_batch
from tally_stack.demo_catalog import PLANS, SUBSCRIPTIONS


def test_batch_has_a_few_api_calls_and_ai_requests_per_customer() -> None:
    batch = make_batch(random.Random(7))
    events = batch["events"]
    for customer in CUSTOMERS:
        mine = [e for e in events if e["customer_id"] == customer]
        assert 1 <= sum(e["type"] == "api_call" for e in mine) <= 3
        assert 0 <= sum(e["type"] == "ai.request" for e in mine) <= 2
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        assert set(event) == {"id", "customer_id", "type", "timestamp", "properties"}
        if event["type"] == "api_call":
            assert 10 <= event["properties"]["tokens"] <= 2000
        else:
            assert event["properties"]["model"] in {"small", "large"}
        assert event["timestamp"].endswith("Z")
        sent = datetime.fromisoformat(event["timestamp"])
        assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)


def test_every_demo_customer_subscribes_to_a_demo_plan() -> None:
    plans = {plan["key"] for plan in PLANS}
    assert sorted(s["customer_id"] for s in SUBSCRIPTIONS) == sorted(CUSTOMERS)
    assert {s["plan_key"] for s in SUBSCRIPTIONS} <= plans
