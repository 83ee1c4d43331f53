from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "placeholder", "xxx"})
MIN_SECRET_LENGTH = 16


class ServiceSettings(BaseSettings):
    """Settings every service has. A subclass sets `env_prefix` (e.g. BILLING_) in its model_config.

    Fields with an explicit alias are shared by all services and read un-prefixed, so ops set them once.
    """

    model_config = SettingsConfigDict(extra="ignore", validate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    log_level: str = Field("INFO", alias="TALLY_LOG_LEVEL")
    otlp_endpoint: str | None = Field(None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    worker_port: int = 9000
    worker_processes: int = 1  # the worker's processes: one consumer group member each, sharing worker_port


def require_real_secret(value: SecretStr, name: str) -> SecretStr:
    secret = value.get_secret_value().strip()
    if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} is missing or a placeholder: set a random value of {MIN_SECRET_LENGTH}+ characters")
    return value


class DatabaseSettings(ServiceSettings):
    """A service that owns a Postgres schema."""

    database_url: str
    db_pool_size: int = 10

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            return "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql:// or postgresql+asyncpg:// URL")
        return value


class BootstrapKeySettings(ServiceSettings):
    """The API key accepted everywhere until the gateway issues keys."""

    bootstrap_api_key: SecretStr = Field(alias="TALLY_BOOTSTRAP_API_KEY")

    @field_validator("bootstrap_api_key")
    @classmethod
    def _real_key(cls, value: SecretStr) -> SecretStr:
        return require_real_secret(value, "TALLY_BOOTSTRAP_API_KEY")
