from datetime import UTC, datetime, timedelta
from typing import Annotated

from aiokafka import AIOKafkaProducer
from contracts.usage import UsageRecordedEvent
from fastapi import APIRouter, Depends, Request
from tally_runtime.auth import require_bootstrap_key
from tally_runtime.problems import Problem

from usage_ingest.config import IngestSettings
from usage_ingest.events import publisher
from usage_ingest.events.schemas import Accepted, UsageBatchIn, UsageEventIn
from usage_ingest.events.service import InvalidEvents, TimeBounds, to_events

RETRY_AFTER_S = "5"


def app_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[IngestSettings, Depends(app_settings)]


router = APIRouter(prefix="/v1/events", tags=["usage"], dependencies=[Depends(require_bootstrap_key)])


async def accept(request: Request, inputs: list[UsageEventIn], settings: IngestSettings, field_prefix: str) -> Accepted:
    bounds = TimeBounds(timedelta(days=settings.max_event_age_days), timedelta(minutes=settings.max_future_minutes))
    try:
        events: list[UsageRecordedEvent] = to_events(inputs, datetime.now(UTC), bounds, settings.source)
    except InvalidEvents as exc:
        errors = [{"field": field_prefix.format(e.index) + e.field, "reason": e.reason} for e in exc.errors]
        raise Problem(422, "Some events are invalid; none were accepted.", errors=errors) from None
    producer: AIOKafkaProducer = request.app.state.producer
    try:
        await publisher.publish(producer, events, settings.publish_timeout_s)
    except publisher.PublishFailed:
        raise Problem(
            503,
            "The event log is unavailable; retry the same request.",
            headers={"Retry-After": RETRY_AFTER_S},
        ) from None
    return Accepted(accepted=len(events))


@router.post("", status_code=202)
async def post_event(request: Request, event: UsageEventIn, settings: SettingsDep) -> Accepted:
    return await accept(request, [event], settings, "body.")


@router.post("/batch", status_code=202)
async def post_batch(request: Request, batch: UsageBatchIn, settings: SettingsDep) -> Accepted:
    return await accept(request, batch.events, settings, "body.events.{}.")
