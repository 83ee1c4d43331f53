from functools import lru_cache

from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings


class BillingSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    api_port: int = 8002
    worker_port: int = 9002
    consumer_group: str = "billing"


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
