from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from tally_runtime.settings import DatabaseSettings

from analytics.projections.segments import Policy


class AnalyticsSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    api_port: int = 8003
    worker_port: int = 9003
    consumer_group: str = "analytics"
    past_due_active_days: int = Field(
        30, ge=0, description="A past-due subscription keeps counting in MRR for this many days (then it is churn)"
    )
    churn_at: Literal["period_end", "cancellation"] = Field(
        "period_end", description="A cancellation at period end counts as churn at the period end, or when requested"
    )
    deduct_discounts: bool = Field(True, description="Discount (adjustment) lines reduce reported revenue")
    default_currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="When no customer exists yet")
    answer_cache_bytes: int = Field(
        32 * 1024 * 1024, ge=0, description="Room for the api's kept answers (bodies, in bytes); 0 keeps none"
    )

    def policy(self) -> Policy:
        """Changing these needs a rebuild (`make analytics-rebuild`): MRR segments are derived with them."""
        return Policy(self.past_due_active_days, churn_at_cancellation=self.churn_at == "cancellation")


@lru_cache
def get_settings() -> AnalyticsSettings:
    return AnalyticsSettings()
