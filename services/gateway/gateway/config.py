from functools import lru_cache

from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import BootstrapKeySettings, DatabaseSettings


class GatewaySettings(DatabaseSettings, BootstrapKeySettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    api_port: int = 8000
    worker_port: int = 9000
    billing_url: str = "http://127.0.0.1:8002"
    ingest_url: str = "http://127.0.0.1:8001"
    upstream_timeout_s: float = 10.0


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
