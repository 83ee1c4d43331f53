from functools import lru_cache

from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings


class AnalyticsSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    api_port: int = 8003


@lru_cache
def get_settings() -> AnalyticsSettings:
    return AnalyticsSettings()
