import random
from datetime import UTC, datetime, timedelta

from tally_stack.demo import CUSTOMERS, make_batch


def test_batch_has_a_few_api_calls_per_customer() -> None:
    batch = make_batch(random.Random(7))
    events = batch["events"]
    for customer in CUSTOMERS:
        assert 1 <= sum(e["customer_id"] == customer for e in events) <= 3
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        assert set(event) == {"id", "customer_id", "type", "timestamp", "properties"}
        assert event["type"] == "api_call"
        assert 10 <= event["properties"]["tokens"] <= 2000
        assert event["timestamp"].endswith("Z")
        sent = datetime.fromisoformat(event["timestamp"])
        assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)
