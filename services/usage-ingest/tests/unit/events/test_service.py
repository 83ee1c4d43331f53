from datetime import UTC, datetime, timedelta

import pytest
from contracts.usage import USAGE_RECORDED
from usage_ingest.events.schemas import UsageEventIn
from usage_ingest.events.service import InvalidEvents, TimeBounds, to_events

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BOUNDS = TimeBounds(max_age=timedelta(days=35), max_ahead=timedelta(minutes=5))


def item(event_id: str, timestamp: datetime | None) -> UsageEventIn:
    return UsageEventIn(id=event_id, customer_id="acme-42", type="api_call", timestamp=timestamp, properties={"n": 1})


def test_events_carry_the_input_and_default_to_receipt_time() -> None:
    events = to_events([item("a", None), item("b", NOW - timedelta(days=1))], NOW, BOUNDS, "test")
    assert [e.id for e in events] == ["a", "b"]
    assert events[0].data.timestamp == NOW
    assert events[0].type == USAGE_RECORDED
    assert events[0].subject == "acme-42"
    assert events[1].data.properties == {"n": 1}


def test_out_of_bounds_timestamps_refuse_the_whole_batch_and_name_each_index() -> None:
    inputs = [
        item("ok", NOW),
        item("old", NOW - timedelta(days=36)),
        item("future", NOW + timedelta(minutes=6)),
        item("naive", datetime(2026, 11, 21, 11, 0)),
    ]
    with pytest.raises(InvalidEvents) as caught:
        to_events(inputs, NOW, BOUNDS, "test")
    assert [(e.index, e.field) for e in caught.value.errors] == [(1, "timestamp"), (2, "timestamp"), (3, "timestamp")]
    assert "older than 35 days" in caught.value.errors[0].reason
    assert "minutes ahead" in caught.value.errors[1].reason
    assert "time zone" in caught.value.errors[2].reason


def test_bounds_are_inclusive() -> None:
    events = to_events(
        [item("edge-old", NOW - timedelta(days=35)), item("edge-new", NOW + timedelta(minutes=5))], NOW, BOUNDS, "test"
    )
    assert len(events) == 2
