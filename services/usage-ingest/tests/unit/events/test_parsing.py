import json
from typing import Any

import pytest
from usage_ingest.events.parsing import InvalidEvents, UnsupportedMediaType, parse


def tally(event_id: str = "e1", **overrides: Any) -> dict[str, Any]:
    return {"id": event_id, "customer_id": "acme", "type": "api_call", "properties": {"tokens": 3}} | overrides


def cloud(event_id: str = "c1", **overrides: Any) -> dict[str, Any]:
    event = {"specversion": "1.0", "id": event_id, "source": "/app", "type": "api_call", "subject": "acme"}
    return event | {"time": "2026-11-21T10:00:00Z", "data": {"tokens": 3}, "traceparent": "x"} | overrides


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_tally_shapes() -> None:
    [single] = parse(body(tally()), "application/json; charset=utf-8", batch=False)
    assert (single.id, single.customer_id, single.type, single.timestamp, single.properties) == (
        "e1",
        "acme",
        "api_call",
        None,
        {"tokens": 3},
    )
    batch = parse(body({"events": [tally("a"), tally("b")]}), None, batch=True)
    assert [e.id for e in batch] == ["a", "b"]
    assert batch[1].field == "body.events.1."


def test_cloudevents_map_subject_to_customer_and_data_to_properties() -> None:
    [event] = parse(body(cloud()), "application/cloudevents+json", batch=False)
    assert (event.id, event.customer_id, event.properties, event.time_field) == ("c1", "acme", {"tokens": 3}, "time")
    assert event.timestamp is not None and event.timestamp.isoformat() == "2026-11-21T10:00:00+00:00"
    batch = parse(body([cloud("x"), cloud("y", subject="globex")]), "application/cloudevents-batch+json", batch=True)
    assert [(e.id, e.customer_id, e.field) for e in batch] == [("x", "acme", "body.0."), ("y", "globex", "body.1.")]


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidEvents) as caught:
        parse(body({"events": [tally(), tally("", type="has space"), tally(extra=1)]}), None, batch=True)
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["body.events.1.id", "body.events.1.type", "body.events.2.extra"]
    with pytest.raises(InvalidEvents) as caught:
        parse(body([cloud(subject=""), cloud(specversion="0.3")]), "application/cloudevents-batch+json", batch=True)
    assert [e["field"] for e in caught.value.errors] == ["body.0.subject", "body.1.specversion"]


def test_bad_json_and_limits() -> None:
    with pytest.raises(InvalidEvents) as caught:
        parse(b"{not json", None, batch=True)
    assert caught.value.errors[0]["field"] == "body"
    with pytest.raises(InvalidEvents):
        parse(body({"events": [tally(str(i)) for i in range(1001)]}), None, batch=True)
    with pytest.raises(InvalidEvents):
        parse(body([]), "application/cloudevents-batch+json", batch=True)
    with pytest.raises(InvalidEvents) as caught:
        parse(body(tally(properties={"blob": "x" * 9000})), None, batch=False)
    assert caught.value.errors[0]["field"] == "body.properties"


def test_other_media_types_are_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(body(tally()), "text/plain", batch=False)
    with pytest.raises(UnsupportedMediaType):
        parse(body([cloud()]), "application/cloudevents+json", batch=True)
