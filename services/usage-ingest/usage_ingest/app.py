from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer
from contracts.topics import USAGE_EVENTS
from fastapi import FastAPI
from tally_runtime.http import create_api
from tally_runtime.kafka import PRODUCER_OPTIONS, broker_ready
from tally_runtime.tracing import tracing_records

from usage_ingest.config import IngestSettings, get_settings
from usage_ingest.events.admission import Admission
from usage_ingest.events.api import router as events_router
from usage_ingest.events.fast_path import EventRoutesFastPath
from usage_ingest.events.publisher import Publisher
from usage_ingest.keys.keyring import KeyRing


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id="usage-ingest",
            **PRODUCER_OPTIONS
            | {"max_batch_size": settings.producer_batch_bytes, "linger_ms": settings.producer_linger_ms},
        )
        await producer.start()
        app.state.producer = producer
        app.state.publisher = Publisher(
            producer,
            source=settings.source,
            timeout_s=settings.publish_timeout_s,
            max_body_bytes=settings.max_body_bytes,
        )
        try:
            key_ring = KeyRing(settings.kafka_bootstrap_servers)
            await key_ring.start()
            app.state.key_ring = key_ring
            try:
                yield
            finally:
                await key_ring.stop()
        finally:
            await producer.stop()

    app = create_api(
        "Tally usage-ingest",
        lifespan=lifespan,
        readiness=lambda app: {
            "broker": lambda: broker_ready(app.state.producer, USAGE_EVENTS),
            "api_keys": app.state.key_ring.ready,
        },
    )
    app.state.settings = settings
    app.state.admission = Admission(settings.max_in_flight)
    app.include_router(events_router)
    if not tracing_records():
        app.add_middleware(EventRoutesFastPath, router=events_router)
    return app
