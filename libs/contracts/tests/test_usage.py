import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from contracts import (
    MAX_EVENT_ID_LENGTH,
    MAX_PROPERTIES_BYTES,
    USAGE_RECORDED,
    ContractError,
    UsageRecorded,
    UsageRecordedEvent,
    decode_event,
    encode_event,
    usage_recorded,
)
from contracts.usage import UsageBatchRecordedEvent, decode_usage, usage_items
from pydantic import ValidationError

T0 = datetime(2024, 11, 12, 9, 30, tzinfo=UTC)


def document(**data: Any) -> dict[str, Any]:
    event = usage_recorded("evt_1", "acme-42", "api_call", T0, properties={"tokens": 120}, source="/tests")
    result: dict[str, Any] = json.loads(encode_event(event))
    result["data"].update(data)
    return result


def decode(doc: dict[str, Any]) -> UsageRecordedEvent:
    return decode_event(json.dumps(doc).encode(), UsageRecordedEvent)


def properties_of_size(size: int) -> dict[str, Any]:
    overhead = len('{"k":""}')
    properties = {"k": "x" * (size - overhead)}
    assert len(json.dumps(properties, separators=(",", ":")).encode()) == size
    return properties


def test_constants() -> None:
    assert USAGE_RECORDED == "tally.usage.recorded"
    assert MAX_EVENT_ID_LENGTH == 255
    assert MAX_PROPERTIES_BYTES == 8192


def test_constructor_fills_the_envelope() -> None:
    event = usage_recorded("evt_1", "acme-42", "ai.request", T0, properties={"tokens": 120}, source="/tests")
    assert (event.specversion, event.id, event.source, event.type) == ("1.0", "evt_1", "/tests", USAGE_RECORDED)
    assert event.subject == "acme-42"
    assert event.time == T0
    assert event.datacontenttype == "application/json"
    assert event.data == UsageRecorded(
        customer_id="acme-42", event_type="ai.request", timestamp=T0, properties={"tokens": 120}
    )


def test_constructor_defaults_and_copies_properties() -> None:
    assert usage_recorded("evt_1", "acme-42", "api_call", T0, source="/tests").data.properties == {}
    given: dict[str, Any] = {"tokens": 1}
    event = usage_recorded("evt_1", "acme-42", "api_call", T0, properties=given, source="/tests")
    given["tokens"] = 2
    assert event.data.properties == {"tokens": 1}


def test_constructor_stores_time_in_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=9)))
    event = usage_recorded("evt_1", "acme-42", "api_call", local, source="/tests")
    assert event.time.tzinfo == UTC
    assert event.data.timestamp.tzinfo == UTC


def test_constructor_refuses_invalid_input() -> None:
    with pytest.raises(ValidationError):
        usage_recorded("", "acme-42", "api_call", T0, source="/tests")


@pytest.mark.parametrize("length", [1, MAX_EVENT_ID_LENGTH])
def test_event_id_length_accepted(length: int) -> None:
    assert decode(document() | {"id": "e" * length}).id == "e" * length


@pytest.mark.parametrize("length", [0, MAX_EVENT_ID_LENGTH + 1])
def test_event_id_length_refused(length: int) -> None:
    with pytest.raises(ContractError, match=r"^id: String should have"):
        decode(document() | {"id": "e" * length})


@pytest.mark.parametrize("length", [0, 256])
def test_customer_id_length_refused(length: int) -> None:
    doc = document(customer_id="c" * length) | {"subject": "c" * length}
    with pytest.raises(ContractError, match=r"^data\.customer_id: String should have"):
        decode(doc)


@pytest.mark.parametrize("name", ["api_call", "ai.request", "A", "storage:gb-hours", "a" + "b" * 99])
def test_event_type_pattern_accepts(name: str) -> None:
    assert decode(document(event_type=name)).data.event_type == name


@pytest.mark.parametrize("name", ["", "1call", "_call", ".call", "api call", "api/call", "é", "a" + "b" * 100])
def test_event_type_pattern_refuses(name: str) -> None:
    with pytest.raises(ContractError, match=r"^data\.event_type: String should match pattern"):
        decode(document(event_type=name))


def test_properties_accept_any_json_values() -> None:
    properties = {"n": 1, "f": 0.5, "s": "x", "b": True, "none": None, "list": [1, "a"], "obj": {"k": [{}]}}
    assert decode(document(properties=properties)).data.properties == properties


def test_properties_default_to_empty() -> None:
    doc = document()
    del doc["data"]["properties"]
    assert decode(doc).data.properties == {}


def test_properties_of_exactly_8192_bytes_are_accepted() -> None:
    properties = properties_of_size(MAX_PROPERTIES_BYTES)
    assert decode(document(properties=properties)).data.properties == properties


def test_properties_of_8193_bytes_are_refused() -> None:
    with pytest.raises(ContractError) as caught:
        decode(document(properties=properties_of_size(MAX_PROPERTIES_BYTES + 1)))
    assert caught.value.reason == "data.properties: larger than 8192 bytes"


def test_properties_size_counts_utf8_bytes() -> None:
    euro = "\u20ac"  # three bytes in UTF-8
    fits = {"k": euro * ((MAX_PROPERTIES_BYTES - 8) // 3)}
    assert decode(document(properties=fits)).data.properties == fits
    with pytest.raises(ContractError, match="larger than 8192 bytes"):
        decode(document(properties={"k": euro * ((MAX_PROPERTIES_BYTES - 8) // 3 + 1)}))


def test_properties_limit_on_the_data_model() -> None:
    with pytest.raises(ValidationError) as caught:
        UsageRecorded(
            customer_id="acme-42",
            event_type="api_call",
            timestamp=T0,
            properties=properties_of_size(MAX_PROPERTIES_BYTES + 1),
        )
    (error,) = caught.value.errors()
    assert (error["loc"], error["msg"]) == (("properties",), "larger than 8192 bytes")


def test_properties_refuse_nan_and_infinity() -> None:
    with pytest.raises(ValidationError):
        UsageRecorded(customer_id="c", event_type="e", timestamp=T0, properties={"x": float("nan")})
    with pytest.raises(ContractError, match=r"^data\.properties: NaN and Infinity"):
        encoded = encode_event(usage_recorded("e", "c", "e", T0, source="/t"))
        decode_event(encoded.replace(b'"properties":{}', b'"properties":{"x":NaN}'), UsageRecordedEvent)


def test_subject_must_be_the_customer_id() -> None:
    with pytest.raises(ContractError) as caught:
        decode(document() | {"subject": "someone-else"})
    assert caught.value.reason == "subject: must equal data.customer_id"
    doc = document()
    del doc["subject"]
    with pytest.raises(ContractError, match=r"^subject: Field required$"):
        decode(doc)


def test_time_must_be_the_usage_timestamp() -> None:
    with pytest.raises(ContractError) as caught:
        decode(document(timestamp="2024-11-12T09:31:00Z"))
    assert caught.value.reason == "time: must equal data.timestamp"
    same_instant = document(timestamp="2024-11-12T10:30:00+01:00")
    assert decode(same_instant).data.timestamp == T0


def test_type_must_be_usage_recorded() -> None:
    with pytest.raises(ContractError, match=r"^type: Input should be 'tally\.usage\.recorded'$"):
        decode(document() | {"type": "tally.meter.created"})


def test_data_refuses_unknown_fields() -> None:
    with pytest.raises(ContractError, match=r"^data\.quantity: Extra inputs are not permitted$"):
        decode(document(quantity=3))


def _batch(**data: object) -> bytes:
    body = {
        "specversion": "1.0",
        "id": "msg_1",
        "source": "test",
        "type": "tally.usage.batch_recorded",
        "subject": "acme",
        "time": "2026-11-01T12:00:00Z",
        "data": {
            "customer_id": "acme",
            "events": [{"event_id": "e1", "event_type": "api_call", "timestamp": "2026-11-01T11:00:00Z"}],
        }
        | data,
    }
    return json.dumps(body).encode()


def test_decode_usage_reads_both_kinds_of_message() -> None:
    single = usage_recorded("e0", "acme", "api_call", datetime(2026, 11, 1, tzinfo=UTC), source="test")
    assert isinstance(decode_usage(encode_event(single)), UsageRecordedEvent)
    batch = decode_usage(_batch())
    assert isinstance(batch, UsageBatchRecordedEvent)
    assert [item.event_id for item in batch.data.events] == ["e1"]
    assert batch.data.events[0].properties == {}


def test_a_batch_must_name_its_customer_and_hold_one_to_a_thousand_events() -> None:
    with pytest.raises(ContractError, match="subject"):
        decode_usage(_batch(customer_id="globex"))
    with pytest.raises(ContractError, match="events"):
        decode_usage(_batch(events=[]))
    item = {"event_id": "e", "event_type": "api_call", "timestamp": "2026-11-01T11:00:00Z"}
    with pytest.raises(ContractError, match="events"):
        decode_usage(_batch(events=[item] * 1001))
    with pytest.raises(ContractError, match="properties"):
        decode_usage(_batch(events=[item | {"properties": {"blob": "x" * 9000}}]))


def test_a_batch_carries_events_of_other_customers_that_name_themselves() -> None:
    def item(event_id: str, customer: str | None = None) -> dict[str, str]:
        named = {"customer_id": customer} if customer else {}
        return {"event_id": event_id, "event_type": "api_call", "timestamp": "2026-11-01T11:00:00Z"} | named

    batch = decode_usage(_batch(events=[item("e1"), item("e2", "globex"), item("e3", "acme"), item("e4")]))
    pairs = [(customer, event.event_id) for customer, event in usage_items(batch)]
    assert pairs == [("acme", "e1"), ("globex", "e2"), ("acme", "e3"), ("acme", "e4")]
    for bad in ("", "x" * 256):
        with pytest.raises(ContractError, match="customer_id"):
            decode_usage(_batch(events=[item("e1") | {"customer_id": bad}]))


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ContractError, match="type"):
        decode_usage(_batch().replace(b"tally.usage.batch_recorded", b"tally.usage.other"))
