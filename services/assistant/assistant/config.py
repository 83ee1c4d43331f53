from functools import lru_cache

from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings


class AssistantSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    api_port: int = 8004


@lru_cache
def get_settings() -> AssistantSettings:
    return AssistantSettings()
