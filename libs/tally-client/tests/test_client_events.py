"""Event ids, the JSON shape, and batching by count and by bytes."""

import json
from collections import deque
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tally_client.events import (
    MAX_EVENT_BYTES,
    MAX_REQUEST_BYTES,
    body_size,
    decode_events,
    encode_event,
    new_event_id,
    request_body,
    take_batch,
)

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_ids_are_prefixed_ulids_unique_and_sorted_by_time() -> None:
    ids = [new_event_id(now_ms=1_700_000_000_000 + n) for n in range(1000)]
    assert all(i.startswith("evt_") and len(i) == 30 for i in ids)
    assert ids == sorted(ids)
    assert len({new_event_id() for _ in range(10_000)}) == 10_000
    assert new_event_id(now_ms=0, randomness=bytes(10)) == "evt_" + "0" * 26
    assert new_event_id(now_ms=2**48 - 1, randomness=b"\xff" * 10) == "evt_7" + "Z" * 25


def test_an_event_in_tallys_json_shape() -> None:
    later = WHEN.astimezone(timezone(timedelta(hours=2)))
    encoded = encode_event("evt-1", "acme-42", "api_call", {"tokens": 120, "model": "ünï"}, later)
    assert json.loads(encoded) == {
        "id": "evt-1",
        "customer_id": "acme-42",
        "type": "api_call",
        "timestamp": "2026-11-01T12:00:00Z",
        "properties": {"tokens": 120, "model": "ünï"},
    }
    assert json.loads(encode_event("e", "c", "t", None, WHEN))["properties"] == {}


@pytest.mark.parametrize(
    ("properties", "timestamp", "error"),
    [
        ({"x": float("nan")}, WHEN, ValueError),
        ({"x": object()}, WHEN, TypeError),
        ({}, datetime(2026, 11, 1, 12), ValueError),
        ({"blob": "x" * MAX_EVENT_BYTES}, WHEN, ValueError),
    ],
    ids=["nan", "not-json", "naive-timestamp", "over-1-MiB"],
)
def test_events_that_could_never_be_sent_are_refused_at_once(
    properties: dict[str, object], timestamp: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        encode_event("e", "c", "t", properties, timestamp)


def test_the_body_size_is_exact() -> None:
    events = [encode_event(f"e{n}", "c", "t", {"n": n}, WHEN) for n in range(5)]
    for count in range(6):
        body = request_body(events[:count])
        assert body_size([len(e) for e in events[:count]]) == len(body)
        assert len(json.loads(body)["events"]) == count
    assert decode_events(events[:2])[1]["id"] == "e1"


def test_batches_are_cut_by_count() -> None:
    queue = deque(encode_event(f"e{n}", "c", "t", None, WHEN) for n in range(1201))
    sizes = []
    while queue:
        sizes.append(len(take_batch(queue, 500)))
    assert sizes == [500, 500, 201]


def test_batches_are_cut_by_bytes_and_fill_the_limit_exactly() -> None:
    event = encode_event("e", "c", "t", {"pad": "x" * 1000}, WHEN)
    queue = deque([event] * 10)
    limit = body_size([len(event)] * 3)
    assert len(take_batch(queue, 1000, limit)) == 3
    assert len(take_batch(queue, 1000, limit - 1)) == 2
    assert len(queue) == 5


def test_a_full_size_batch_stays_under_one_mebibyte() -> None:
    event = encode_event("e", "c", "t", {"pad": "x" * 8000}, WHEN)
    queue = deque([event] * 1000)
    batch = take_batch(queue, 1000)
    assert len(request_body(batch)) <= MAX_REQUEST_BYTES < len(request_body([*batch, event]))


def test_a_lone_event_always_makes_a_batch() -> None:
    huge = encode_event("e", "c", "t", {"pad": "x" * (MAX_EVENT_BYTES - 200)}, WHEN)
    assert len(request_body([huge])) <= MAX_REQUEST_BYTES
    assert take_batch(deque([huge, huge]), 10) == [huge]
