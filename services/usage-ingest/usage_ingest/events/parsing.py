"""Pure: a request body, by content type, into validated incoming events, or every reason it is not valid."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.usage import MAX_BATCH_EVENTS
from pydantic import JsonValue, ValidationError

from usage_ingest.events.schemas import CLOUD_EVENT, CLOUD_EVENT_BATCH, TALLY_BATCH, TALLY_EVENT

JSON = "application/json"
CLOUDEVENT = "application/cloudevents+json"
CLOUDEVENT_BATCH = "application/cloudevents-batch+json"


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    id: str
    customer_id: str
    type: str
    timestamp: datetime | None
    properties: dict[str, JsonValue]
    field: str  # how errors name this event, e.g. "body.events.3."
    time_field: str  # "timestamp" or "time"


class InvalidEvents(Exception):
    """422: every bad field of the request, as [{"field", "reason"}]."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid fields")
        self.errors = errors


class UnsupportedMediaType(Exception):
    pass


def media_type(content_type: str | None) -> str:
    return (content_type or JSON).split(";", 1)[0].strip().lower()


def parse(body: bytes, content_type: str | None, *, batch: bool) -> list[IncomingEvent]:
    kind = media_type(content_type)
    try:
        if batch and kind == JSON:
            events = TALLY_BATCH.validate_json(body).events
            return [_tally(e, f"body.events.{i}.") for i, e in enumerate(events)]
        if batch and kind == CLOUDEVENT_BATCH:
            cloud = CLOUD_EVENT_BATCH.validate_json(body)
            if not 1 <= len(cloud) <= MAX_BATCH_EVENTS:
                reason = f"a batch holds 1 to {MAX_BATCH_EVENTS} events"
                raise InvalidEvents([{"field": "body", "reason": reason}])
            return [_cloud(e, f"body.{i}.") for i, e in enumerate(cloud)]
        if not batch and kind == JSON:
            return [_tally(TALLY_EVENT.validate_json(body), "body.")]
        if not batch and kind == CLOUDEVENT:
            return [_cloud(CLOUD_EVENT.validate_json(body), "body.")]
    except ValidationError as exc:
        raise InvalidEvents(field_errors(exc)) from None
    expected = f"{JSON} or {CLOUDEVENT_BATCH if batch else CLOUDEVENT}"
    raise UnsupportedMediaType(f"Content-Type {kind!r} is not accepted here; send {expected}.")


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return [{"field": ".".join(["body", *(str(p) for p in e["loc"])]), "reason": e["msg"]} for e in errors]


def _tally(event: Any, field: str) -> IncomingEvent:
    return IncomingEvent(event.id, event.customer_id, event.type, event.timestamp, event.properties, field, "timestamp")


def _cloud(event: Any, field: str) -> IncomingEvent:
    return IncomingEvent(event.id, event.subject, event.type, event.time, event.data, field, "time")
