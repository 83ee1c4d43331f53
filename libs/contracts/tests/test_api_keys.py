import json
from datetime import UTC, datetime
from typing import Any

import pytest
from contracts import (
    API_KEY_ISSUED,
    API_KEY_REVOKED,
    API_KEYS,
    ApiKeyEvent,
    ApiKeyIssued,
    ApiKeyIssuedEvent,
    ApiKeyRevoked,
    ApiKeyRevokedEvent,
    api_key_issued,
    api_key_revoked,
    encode_event,
    event_type,
    topic,
)
from pydantic import TypeAdapter, ValidationError

T0 = datetime(2024, 11, 12, 9, 30, tzinfo=UTC)
HASH = "ab" * 32
EVENTS: TypeAdapter[ApiKeyIssuedEvent | ApiKeyRevokedEvent] = TypeAdapter(ApiKeyEvent)


def issued(**data: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "key_id": "key_1",
        "name": "backend",
        "scopes": ["ingest"],
        "hash": HASH,
        "hash_algorithm": "sha256",
        "issued_at": T0,
    }
    event = api_key_issued("evt_1", ApiKeyIssued(**fields), "tally/gateway")
    document: dict[str, Any] = json.loads(encode_event(event))
    document["data"].update(data)
    return document


def test_both_types_travel_on_the_compacted_key_topic() -> None:
    assert event_type(API_KEY_ISSUED).topic == API_KEYS
    assert event_type(API_KEY_REVOKED).topic == API_KEYS
    assert topic(API_KEYS).event_types == (API_KEY_ISSUED, API_KEY_REVOKED)


def test_one_adapter_reads_either_type() -> None:
    revoked = api_key_revoked("evt_2", ApiKeyRevoked(key_id="key_1", revoked_at=T0), "tally/gateway")
    assert isinstance(EVENTS.validate_json(encode_event(revoked)), ApiKeyRevokedEvent)
    event = EVENTS.validate_json(json.dumps(issued()))
    assert isinstance(event, ApiKeyIssuedEvent)
    assert (event.subject, event.time, event.data.scopes) == ("key_1", T0, ["ingest"])


@pytest.mark.parametrize(
    "change",
    [
        {"hash": "tk_live_not_a_hash_but_a_secret_0123456789"},
        {"hash": HASH.upper()},
        {"hash_algorithm": "md5"},
        {"scopes": []},
        {"scopes": ["Not A Scope"]},
        {"key_id": "mtr_1"},
        {"name": ""},
        {"secret": "tk_live_x"},
    ],
)
def test_invalid_data_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EVENTS.validate_json(json.dumps(issued(**change)))


def test_unknown_scopes_are_carried_for_consumers_to_ignore() -> None:
    event = EVENTS.validate_json(json.dumps(issued(scopes=["ingest", "billing:write"])))
    assert isinstance(event, ApiKeyIssuedEvent)
    assert event.data.scopes == ["ingest", "billing:write"]


def test_subject_must_name_the_key() -> None:
    with pytest.raises(ValidationError, match="subject"):
        EVENTS.validate_json(json.dumps({**issued(), "subject": "key_2"}))
    with pytest.raises(ValidationError):
        EVENTS.validate_json(json.dumps({**issued(), "type": "tally.api_key.rotated"}))
