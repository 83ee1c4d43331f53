from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings


class BillingSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    api_port: int = 8002
    worker_port: int = 9002
    consumer_group: str = "billing"
    invoice_run_every_s: float = Field(30.0, gt=0, description="How often the worker closes ended periods")
    invoice_draft_hours: float = Field(1.0, ge=0, description="How long an invoice stays a draft before it is numbered")
    late_usage_grace_hours: float = Field(
        72.0, ge=0, description="Usage for an invoiced period arriving this long after its end is still billed"
    )


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
