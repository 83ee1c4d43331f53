from functools import lru_cache
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import PLACEHOLDER_SECRETS, BootstrapKeySettings, DatabaseSettings, require_real_secret

MIN_PASSWORD_LENGTH = 12
PLACEHOLDER_PASSWORDS = PLACEHOLDER_SECRETS | {"admin", "administrator", "letmein", "tally", "12345678", "qwerty"}


def require_real_password(value: SecretStr, name: str) -> SecretStr:
    password = value.get_secret_value()
    if password.strip().lower() in PLACEHOLDER_PASSWORDS or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"{name} is missing or a placeholder: set a password of {MIN_PASSWORD_LENGTH}+ characters")
    return value


class GatewaySettings(DatabaseSettings, BootstrapKeySettings):
    """GATEWAY_-prefixed, except the shared TALLY_BOOTSTRAP_API_KEY and the first admin's TALLY_ADMIN_EMAIL and
    TALLY_ADMIN_PASSWORD."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    api_port: int = 8000
    worker_port: int = 9000
    billing_url: str = "http://127.0.0.1:8002"
    ingest_url: str = "http://127.0.0.1:8001"
    analytics_url: str = "http://127.0.0.1:8003"
    assistant_url: str = "http://127.0.0.1:8004"
    upstream_timeout_s: float = 10.0

    bootstrap_api_key: SecretStr = Field(SecretStr(""), alias="TALLY_BOOTSTRAP_API_KEY")
    bootstrap_key_enabled: bool = Field(True, description="False: the gateway refuses the bootstrap key")
    upstream_api_key: SecretStr = Field(
        SecretStr(""), description="How the gateway authenticates to services; empty: the bootstrap key"
    )

    admin_email: str = Field(alias="TALLY_ADMIN_EMAIL", min_length=3)
    admin_password: SecretStr = Field(alias="TALLY_ADMIN_PASSWORD")

    session_ttl_s: int = Field(12 * 3600, gt=0, description="A session ends this long after login")
    session_idle_s: int = Field(30 * 60, gt=0, description="... or after this long without a request")
    token_ttl_s: int = Field(3600, gt=0, description="Lifetime of a bearer token from POST /v1/auth/token")
    cookie_secure: bool = Field(False, description="Always mark the session cookie Secure (behind a TLS proxy)")
    login_max_failures: int = Field(5, ge=1, description="Failed logins per email, and per client IP, in the window")
    login_window_s: int = Field(15 * 60, gt=0)

    key_trust_s: float = Field(
        1.0, ge=0, description="How long an API key found active is trusted without a lookup; 0: look up every time"
    )
    rate_limit_per_s: float = Field(50.0, gt=0, description="Default requests/s of a key, user or the bootstrap key")
    rate_limit_burst_s: float = Field(2.0, gt=0, description="A bucket holds this many seconds of requests")

    dashboard_panel_timeout_s: float = Field(2.0, gt=0, description="Default timeout of one dashboard panel")
    dashboard_panel_timeouts: dict[str, float] = Field(default_factory=dict, description="Per panel, e.g. {kpis: 1}")
    dashboard_budget_s: float = Field(2.5, gt=0, description="The whole dashboard answers within this")

    stream_enabled: bool = Field(True, description="Consume the live topics for GET /v1/stream")
    stream_heartbeat_s: float = Field(15.0, gt=0)
    stream_queue_size: int = Field(256, ge=1, description="Events held per client; a client further behind is cut")

    @field_validator("bootstrap_api_key")
    @classmethod
    def _real_key(cls, value: SecretStr) -> SecretStr:
        return value  # checked in _bootstrap_key_when_enabled: a disabled key may be absent

    @model_validator(mode="after")
    def _bootstrap_key_when_enabled(self) -> Self:
        if self.bootstrap_key_enabled:
            require_real_secret(self.bootstrap_api_key, "TALLY_BOOTSTRAP_API_KEY")
        if not self.service_key():
            raise ValueError("set GATEWAY_UPSTREAM_API_KEY or TALLY_BOOTSTRAP_API_KEY: the gateway's key to services")
        require_real_password(self.admin_password, "TALLY_ADMIN_PASSWORD")
        return self

    def service_key(self) -> str:
        """The key the gateway sends to the services behind it (they check it, whoever the caller was)."""
        return (self.upstream_api_key.get_secret_value() or self.bootstrap_api_key.get_secret_value()).strip()

    def panel_timeout(self, panel: str) -> float:
        return self.dashboard_panel_timeouts.get(panel, self.dashboard_panel_timeout_s)


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
