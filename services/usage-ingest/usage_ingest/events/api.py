from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import ORJSONResponse
from tally_runtime.bodies import BodyTooLarge
from tally_runtime.metrics import EVENTS_ACCEPTED
from tally_runtime.problems import Problem

from usage_ingest.config import IngestSettings
from usage_ingest.events.admission import Admission, Overloaded
from usage_ingest.events.body import BadEncoding, UnsupportedEncoding, read_body
from usage_ingest.events.parsing import (
    CLOUDEVENT,
    CLOUDEVENT_BATCH,
    JSON,
    InvalidEvents,
    UnsupportedMediaType,
    parse,
)
from usage_ingest.events.publisher import Publisher, PublishFailed
from usage_ingest.events.schemas import Accepted, CloudEventIn, UsageBatchIn, UsageEventIn, Validated
from usage_ingest.events.service import Submission, TimeBounds, check_timestamps
from usage_ingest.keys.auth import require_scope

RETRY_AFTER_BROKER_S = "5"
RETRY_AFTER_BUSY_S = "1"

# The routes read the request and encode their answer themselves: FastAPI's dependency solving and response-model
# serialization took about a tenth of a single event's request.
router = APIRouter(prefix="/v1/events", tags=["usage"])
authorize_ingest = require_scope("ingest")


def _body_doc(*shapes: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Document the bodies these routes read themselves (raw, to validate in one pass and bound their size)."""
    return {"requestBody": {"required": True, "content": {kind: {"schema": schema} for kind, schema in shapes}}}


SINGLE = _body_doc((JSON, UsageEventIn.model_json_schema()), (CLOUDEVENT, CloudEventIn.model_json_schema()))
BATCH = _body_doc(
    (JSON, UsageBatchIn.model_json_schema()),
    (CLOUDEVENT_BATCH, {"type": "array", "items": CloudEventIn.model_json_schema(), "maxItems": 1000}),
)


async def validated(request: Request, settings: IngestSettings, *, batch: bool) -> Submission:
    """Every event of the request, valid; or a problem naming each bad field (and nothing is published)."""
    try:
        body = await read_body(request, settings.max_body_bytes)
        events = parse(body, request.headers.get("content-type"), batch=batch)
        bounds = TimeBounds(timedelta(days=settings.max_event_age_days), timedelta(minutes=settings.max_future_minutes))
        received_at = datetime.now(UTC)
        check_timestamps(events, received_at, bounds)
    except BodyTooLarge:
        raise Problem(413, f"The body is larger than {settings.max_body_bytes} bytes (decompressed).") from None
    except BadEncoding as exc:
        raise Problem(400, str(exc)) from None
    except (UnsupportedEncoding, UnsupportedMediaType) as exc:
        raise Problem(415, str(exc)) from None
    except InvalidEvents as exc:
        raise Problem(422, "Some events are invalid; none were accepted.", errors=exc.errors) from None
    return Submission(received_at, events, len(body))


async def accept(request: Request, *, batch: bool) -> Response:
    await authorize_ingest(request)
    settings: IngestSettings = request.app.state.settings
    admission: Admission = request.app.state.admission
    try:
        with admission.admit():
            submission = await validated(request, settings, batch=batch)
            publisher: Publisher = request.app.state.publisher
            await publisher.publish(submission)
    except Overloaded:
        busy = {"Retry-After": RETRY_AFTER_BUSY_S}
        raise Problem(429, "Too many requests in flight; retry shortly.", headers=busy) from None
    except PublishFailed:
        unavailable = {"Retry-After": RETRY_AFTER_BROKER_S}
        raise Problem(503, "The event log is unavailable; retry the same request.", headers=unavailable) from None
    accepted = len(submission.events)
    EVENTS_ACCEPTED.inc(accepted)
    return ORJSONResponse({"accepted": accepted}, 202)


@router.post("", status_code=202, response_model=Accepted, openapi_extra=SINGLE)
async def post_event(request: Request) -> Response:
    """One usage event; 202 once the broker has it."""
    return await accept(request, batch=False)


@router.post("/batch", status_code=202, response_model=Accepted, openapi_extra=BATCH)
async def post_batch(request: Request) -> Response:
    """Up to 1,000 events or 1 MiB; all are accepted, or none."""
    return await accept(request, batch=True)


@router.post("/validate", response_model=Validated, openapi_extra=BATCH)
async def validate_batch(request: Request) -> Response:
    """Check a batch exactly as /batch would, without sending it anywhere."""
    await authorize_ingest(request)
    submission = await validated(request, request.app.state.settings, batch=True)
    return ORJSONResponse({"valid": len(submission.events)})
