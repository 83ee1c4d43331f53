from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings

from billing.payment.dunning import Policy


class BillingSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    api_port: int = 8002
    worker_port: int = 9002
    # Each process decodes while the other's Postgres writes: the usage consumer's two halves use both cores.
    worker_processes: int = 2
    consumer_group: str = "billing"
    invoice_run_every_s: float = Field(30.0, gt=0, description="How often the worker closes ended periods")
    invoice_draft_hours: float = Field(1.0, ge=0, description="How long an invoice stays a draft before it is numbered")
    late_usage_grace_hours: float = Field(
        72.0, ge=0, description="Usage for an invoiced period arriving this long after its end is still billed"
    )
    stripe_api_key: SecretStr | None = Field(None, description="Without it, invoices are not collected")
    stripe_api_base: str = Field("", description="Empty for the real Stripe; a localstripe URL in tests and demos")
    stripe_webhook_secrets: SecretStr = Field(SecretStr(""), description="Comma-separated whsec_... (rotation)")
    stripe_collection: Literal["invoice", "payment_intent"] = Field(
        "invoice",
        description="invoice: each invoice is sent to Stripe as invoice items + an invoice, and Stripe's invoice is "
        "paid; payment_intent: a bare PaymentIntent per attempt (no Stripe invoice; what localstripe can do)",
    )
    payment_run_every_s: float = Field(30.0, gt=0, description="How often the worker collects and reads webhooks")
    dunning_retry_days: str = Field("3,5,7", description="Retries of a failed payment, days after the first failure")
    dunning_grace_days: int = Field(14, ge=1)
    dunning_final_status: Literal["canceled", "unpaid"] = "canceled"

    def webhook_secrets(self) -> list[str]:
        return [
            secret.strip() for secret in self.stripe_webhook_secrets.get_secret_value().split(",") if secret.strip()
        ]

    def dunning_policy(self) -> Policy:
        days = tuple(int(day) for day in self.dunning_retry_days.split(",") if day.strip())
        return Policy(days, self.dunning_grace_days, self.dunning_final_status, self.stripe_collection)


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
