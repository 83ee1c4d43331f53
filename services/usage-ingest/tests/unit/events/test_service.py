from datetime import UTC, datetime, timedelta

import pytest
from contracts.usage import UsageBatchRecordedEvent, decode_usage, usage_items
from usage_ingest.events.parsing import IncomingEvent, InvalidEvents
from usage_ingest.events.service import Submission, TimeBounds, check_timestamps, to_records

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BOUNDS = TimeBounds(max_age=timedelta(days=35), max_ahead=timedelta(minutes=5))


def incoming(event_id: str, customer: str = "acme-42", timestamp: datetime | None = None) -> IncomingEvent:
    return IncomingEvent(event_id, customer, "api_call", timestamp, {"n": 1}, f"body.events.{event_id}.", "timestamp")


PARTITIONS = {"acme-42": 0, "globex": 1, "initech": 0}


def partition_of(customer: str) -> int:
    return PARTITIONS[customer]


def submitted(events: list[IncomingEvent], received_at: datetime = NOW) -> Submission:
    return Submission(received_at, events, body_bytes=100 * len(events))


def test_one_record_per_partition_that_the_contract_accepts() -> None:
    events = [incoming("a"), incoming("b", "globex"), incoming("c", timestamp=NOW - timedelta(hours=1))]
    records = to_records([submitted(events)], "test", partition_of)
    assert [(r.partition, r.key, r.events) for r in records] == [(0, b"acme-42", 2), (1, b"globex", 1)]
    message = decode_usage(records[0].value)
    assert isinstance(message, UsageBatchRecordedEvent)
    assert message.subject == "acme-42"
    assert [e.event_id for e in message.data.events] == ["a", "c"]
    assert message.data.events[0].timestamp == NOW  # defaulted to the receipt time
    assert message.data.events[1].timestamp == NOW - timedelta(hours=1)
    assert message.data.events[1].properties == {"n": 1}


def test_customers_sharing_a_partition_share_a_record_each_in_sending_order() -> None:
    sent = ["initech", "acme-42", "globex", "acme-42", "initech", "globex", "initech", "acme-42"]
    events = [incoming(str(n), customer) for n, customer in enumerate(sent)]
    records = to_records([submitted(events)], "test", partition_of)
    assert [(r.partition, r.key, r.events) for r in records] == [(0, b"initech", 6), (1, b"globex", 2)]
    carried = {r.partition: usage_items(decode_usage(r.value)) for r in records}
    assert [(customer, e.event_id) for customer, e in carried[0]] == [
        ("initech", "0"),
        ("acme-42", "1"),
        ("acme-42", "3"),
        ("initech", "4"),
        ("initech", "6"),
        ("acme-42", "7"),
    ]
    assert [(customer, e.event_id) for customer, e in carried[1]] == [("globex", "2"), ("globex", "5")]


def test_submissions_grouped_keep_their_order_and_each_its_receipt_time() -> None:
    later = NOW + timedelta(seconds=3)
    first = submitted([incoming("a"), incoming("b", "globex")])
    second = submitted([incoming("c", "globex"), incoming("d", "initech")], received_at=later)
    records = to_records([first, second], "test", partition_of)
    assert [(r.partition, r.key, r.events) for r in records] == [(0, b"acme-42", 2), (1, b"globex", 2)]
    carried = {r.partition: usage_items(decode_usage(r.value)) for r in records}
    assert [(c, e.event_id, e.timestamp) for c, e in carried[0]] == [("acme-42", "a", NOW), ("initech", "d", later)]
    assert [(c, e.event_id, e.timestamp) for c, e in carried[1]] == [("globex", "b", NOW), ("globex", "c", later)]
    assert {decode_usage(r.value).time for r in records} == {NOW}  # the first submission's receipt


def test_messages_have_distinct_ids() -> None:
    first, second = (to_records([submitted([incoming("a")])], "t", partition_of) for _ in range(2))
    assert decode_usage(first[0].value).id != decode_usage(second[0].value).id


def test_out_of_bounds_timestamps_name_each_event() -> None:
    events = [
        incoming("0", timestamp=NOW),
        incoming("1", timestamp=NOW - timedelta(days=36)),
        incoming("2", timestamp=NOW + timedelta(minutes=6)),
        incoming("3", timestamp=datetime(2026, 11, 21, 11, 0)),
    ]
    with pytest.raises(InvalidEvents) as caught:
        check_timestamps(events, NOW, BOUNDS)
    assert caught.value.errors == [
        {"field": "body.events.1.timestamp", "reason": "older than 35 days"},
        {"field": "body.events.2.timestamp", "reason": "more than 5 minutes ahead"},
        {"field": "body.events.3.timestamp", "reason": "must include a time zone, e.g. 2026-11-01T12:00:00Z"},
    ]


def test_bounds_are_inclusive() -> None:
    edges = [incoming("old", timestamp=NOW - timedelta(days=35)), incoming("new", timestamp=NOW + timedelta(minutes=5))]
    check_timestamps(edges, NOW, BOUNDS)
