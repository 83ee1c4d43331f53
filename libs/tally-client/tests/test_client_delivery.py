"""One batch's way to its end: acknowledged, retried, split after a 422, or failed."""

import json
import random

from tally_client.delivery import Delivery
from tally_client.retry import RetryPolicy

POLICY = RetryPolicy(max_duration=10, backoff_base=0.5, backoff_max=4)


def events(count: int) -> list[bytes]:
    return [json.dumps({"id": f"e{n}"}).encode() for n in range(count)]


def ids(batch: list[bytes]) -> list[str]:
    return [json.loads(event)["id"] for event in batch]


def problem(*fields: str) -> bytes:
    return json.dumps({"status": 422, "errors": [{"field": f, "reason": "bad"} for f in fields]}).encode()


def delivery(count: int) -> Delivery:
    return Delivery(events(count), POLICY, started=100.0, rng=random.Random(1))


def test_accepted_at_once() -> None:
    d = delivery(3)
    assert d.on_response(202, None, b'{"accepted": 3}', 100.1) is None
    assert (d.done, d.sent, d.retried, d.failed, d.rejected) == (True, 3, 0, [], [])


def test_transient_failures_resend_the_same_batch_until_accepted() -> None:
    d = delivery(4)
    first = d.body()
    now = 100.0
    for status in (503, 429, 502, 504):
        delay = d.on_response(status, None, b"", now)
        assert delay is not None
        assert 0 <= delay <= POLICY.backoff_max
        assert d.body() == first
        now += delay
    delay = d.on_transport_error("ReadTimeout", now)
    assert delay is not None
    assert d.body() == first
    assert d.on_response(202, None, b"", now + delay) is None
    assert (d.sent, d.retries, d.retried, d.failed) == (4, 5, 20, [])


def test_retry_after_is_honoured() -> None:
    d = delivery(1)
    assert d.on_response(503, 5.0, b"", 100.0) == 5.0


def test_the_retry_budget_ends_in_failure() -> None:
    d = delivery(2)
    now = 100.0
    while (delay := d.on_transport_error("ConnectError", now)) is not None:
        now += delay
    assert now <= 100.0 + POLICY.max_duration
    assert (d.done, d.sent, ids(d.failed), d.gave_up) == (True, 0, ["e0", "e1"], True)
    assert d.failure is not None and "ConnectError" in d.failure and "gave up" in d.failure


def test_a_retry_after_beyond_the_budget_fails_now() -> None:
    d = delivery(1)
    assert d.on_response(503, 60.0, b"", 100.0) is None
    assert d.failed and d.status == 503


def test_a_422_drops_exactly_the_named_events_and_resends_the_rest_at_once() -> None:
    d = delivery(5)
    assert d.on_response(422, None, problem("body.events.1.timestamp", "body.events.3.type"), 100.0) == 0.0
    assert ids(d.pending) == ["e0", "e2", "e4"]
    rejected = [(json.loads(event)["id"], reason) for event, reason in d.rejected]
    assert rejected == [("e1", "timestamp: bad"), ("e3", "type: bad")]
    assert json.loads(d.body())["events"] == [{"id": "e0"}, {"id": "e2"}, {"id": "e4"}]
    # Tally validates the shape first and the time window second: a second 422 indexes the smaller batch.
    assert d.on_response(422, None, problem("body.events.2.timestamp"), 100.1) == 0.0
    assert ids(d.pending) == ["e0", "e2"]
    assert d.on_response(202, None, b"", 100.2) is None
    assert (d.sent, len(d.rejected), d.failed) == (2, 3, [])


def test_a_422_naming_every_event_ends_the_delivery() -> None:
    d = delivery(2)
    assert d.on_response(422, None, problem("body.events.0.id", "body.events.1.id"), 100.0) is None
    assert (d.done, d.sent, len(d.rejected), d.failed) == (True, 0, 2, [])


def test_a_422_naming_no_event_fails_the_batch() -> None:
    d = delivery(2)
    assert d.on_response(422, None, problem("body"), 100.0) is None
    assert (len(d.failed), d.rejected) == (2, [])


def test_a_refused_key_fails_at_once_and_says_so() -> None:
    for status in (401, 403):
        d = delivery(2)
        detail = json.dumps({"status": status, "detail": "The API key is not valid."}).encode()
        assert d.on_response(status, None, detail, 100.0) is None
        assert (len(d.failed), d.retries, d.status, d.gave_up) == (2, 0, status, False)
        assert d.failure is not None and "The API key is not valid." in d.failure and "refused" in d.failure


def test_other_client_errors_are_not_retried() -> None:
    d = delivery(1)
    assert d.on_response(404, None, b"not json", 100.0) is None
    assert d.failure == "HTTP 404 (not retried)"
