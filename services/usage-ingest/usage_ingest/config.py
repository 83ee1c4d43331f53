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
    max_body_bytes: int = 1024 * 1024
    max_in_flight: int = 128
    source: str = "tally/usage-ingest"


@lru_cache
def get_settings() -> IngestSettings:
    return IngestSettings()
