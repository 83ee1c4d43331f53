from functools import lru_cache

from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import BootstrapKeySettings


class IngestSettings(BootstrapKeySettings):
    model_config = SettingsConfigDict(env_prefix="USAGE_INGEST_", extra="ignore")

    api_port: int = 8001
    api_workers: int = 2  # its hot path is CPU: parse, validate, encode
    max_event_age_days: int = 35
    max_future_minutes: int = 5
    publish_timeout_s: float = 10.0
    # aiokafka sends a broker one batch per partition per request, and one request at a time: at its default of
    # 16 KiB a partition carries about 130 events a round trip. Keep it under the broker's message.max.bytes (1 MB).
    producer_batch_bytes: int = 256 * 1024
    # Each request waits for its acks, so a linger adds to every request's latency; under load records batch anyway
    # while the producer's previous request is out (alone, 16 senders of 6 records: 10,000 requests/s unlingered,
    # 2,000 at 5 ms)
    producer_linger_ms: int = 0
    max_body_bytes: int = 1024 * 1024
    max_in_flight: int = 128
    source: str = "tally/usage-ingest"


@lru_cache
def get_settings() -> IngestSettings:
    return IngestSettings()
