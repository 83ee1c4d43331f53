import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from contracts import (
    CloudEvent,
    ContractError,
    UsageRecordedEvent,
    decode_event,
    encode_event,
    usage_recorded,
)
from pydantic import BaseModel, ConfigDict, ValidationError

T0 = datetime(2024, 11, 12, 9, 30, tzinfo=UTC)


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


def ping(**overrides: object) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": "evt_1",
        "source": "/tests",
        "type": "tests.ping",
        "time": "2024-11-12T09:30:00Z",
        "data": {"n": 1},
        **overrides,
    }


def raw(document: dict[str, object]) -> bytes:
    return json.dumps(document).encode()


def test_round_trip_keeps_every_attribute() -> None:
    event = usage_recorded("evt_1", "acme-42", "api_call", T0, properties={"tokens": 120}, source="/tests")
    assert decode_event(encode_event(event), UsageRecordedEvent) == event


def test_encoding_is_compact_utf8_json_with_utc_z_time() -> None:
    event = usage_recorded("evt_1", "acmé", "api_call", T0, properties={"note": "a b"}, source="/tests")
    encoded = encode_event(event)
    document = json.loads(encoded)
    assert encoded == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    assert document["time"] == "2024-11-12T09:30:00Z"
    assert document["data"]["timestamp"] == "2024-11-12T09:30:00Z"


def test_unset_optional_attributes_are_left_out() -> None:
    event = decode_event(raw(ping()), CloudEvent[Ping])
    document = json.loads(encode_event(event))
    assert "subject" not in document
    assert document["datacontenttype"] == "application/json"


def test_extension_attributes_survive_a_round_trip() -> None:
    event = decode_event(raw(ping(partitionkey="acme-42", sampled=True)), CloudEvent[Ping])
    assert json.loads(encode_event(event))["partitionkey"] == "acme-42"
    assert decode_event(encode_event(event), CloudEvent[Ping]) == event


@pytest.mark.parametrize("name", ["partition_key", "PartitionKey", "trace-id", "é"])
def test_extension_attribute_names_must_be_lowercase_alphanumeric(name: str) -> None:
    with pytest.raises(ContractError, match="extension attribute names"):
        decode_event(raw(ping(**{name: "x"})), CloudEvent[Ping])


def test_time_must_be_timezone_aware() -> None:
    with pytest.raises(ContractError) as caught:
        decode_event(raw(ping(time="2024-11-12T09:30:00")), CloudEvent[Ping])
    assert caught.value.reason == "time: Input should have timezone info"
    with pytest.raises(ValidationError):
        usage_recorded("evt_1", "acme-42", "api_call", datetime(2024, 11, 12), source="/tests")


def test_time_with_an_offset_is_stored_and_written_in_utc() -> None:
    event = decode_event(raw(ping(time="2024-11-12T11:30:00+02:00")), CloudEvent[Ping])
    assert event.time == T0
    assert event.time.utcoffset() == timedelta(0)
    assert json.loads(encode_event(event))["time"] == "2024-11-12T09:30:00Z"
    local = datetime(2024, 11, 12, 4, 30, 0, 250000, tzinfo=timezone(timedelta(hours=-5)))
    later = decode_event(raw(ping(time=local.isoformat())), CloudEvent[Ping])
    assert json.loads(encode_event(later))["time"] == "2024-11-12T09:30:00.250000Z"


def test_reason_names_the_field_path() -> None:
    event = usage_recorded("evt_1", "acme-42", "api_call", T0, source="/tests")
    document = json.loads(encode_event(event))
    document["data"]["customer_id"] = ""
    document["subject"] = ""
    with pytest.raises(ContractError) as caught:
        decode_event(raw(document), UsageRecordedEvent)
    assert caught.value.reason == "data.customer_id: String should have at least 1 character"
    assert str(caught.value) == caught.value.reason


def test_reason_lists_several_errors_and_stays_short() -> None:
    with pytest.raises(ContractError) as caught:
        decode_event(b"{}", CloudEvent[Ping])
    reason = caught.value.reason
    assert reason.startswith("specversion: Field required; id: Field required;")
    assert reason.endswith("and 1 more errors")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "Invalid JSON"),
        (b"\xff\xfe\x00", "Invalid JSON"),
        (b"not json", "Invalid JSON"),
        (b'{"specversion": "1.0"', "Invalid JSON"),
        (b"[]", "Input should be an object"),
        (b"null", "Input should be an object"),
    ],
)
def test_undecodable_bytes_raise_contract_error(payload: bytes, reason: str) -> None:
    with pytest.raises(ContractError, match=reason) as caught:
        decode_event(payload, UsageRecordedEvent)
    assert isinstance(caught.value, ValueError)


def test_only_cloudevents_1_0_is_accepted() -> None:
    with pytest.raises(ContractError, match=r"^specversion: Input should be '1\.0'$"):
        decode_event(raw(ping(specversion="0.3")), CloudEvent[Ping])


@pytest.mark.parametrize(("field", "value"), [("id", ""), ("id", "x" * 256), ("source", ""), ("type", "")])
def test_required_attributes_are_not_empty(field: str, value: str) -> None:
    with pytest.raises(ContractError, match=f"^{field}: "):
        decode_event(raw(ping(**{field: value})), CloudEvent[Ping])


def test_data_models_refuse_unknown_fields() -> None:
    with pytest.raises(ContractError, match=r"^data\.extra: Extra inputs are not permitted$"):
        decode_event(raw(ping(data={"n": 1, "extra": 2})), CloudEvent[Ping])
