"""OpenTelemetry tracing: one provider per process, exporting over OTLP when an endpoint is set."""

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def configure_tracing(
    service: str, otlp_endpoint: str | None, extra: SpanProcessor | None = None
) -> TracerProvider | None:
    """Record spans when they go somewhere: an OTLP endpoint, or `extra` (tests attach an in-memory exporter).
    Otherwise tracing stays a no-op, though trace context still flows through headers and into the logs."""
    if otlp_endpoint is None and extra is None:
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        trace.set_tracer_provider(provider)
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces")))
    if extra is not None:
        provider.add_span_processor(extra)
    # Every SQL statement a span, at the driver: the ORM's and those sent on asyncpg directly (bulk writes) alike.
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    return provider


def tracing_records() -> bool:
    """Whether this process records spans (`configure_tracing` set a provider up)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)
