"""Pure: how invoices are collected: through a Stripe invoice or a bare PaymentIntent, when a failed payment is
tried again, and when the subscription's grace runs out."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class Policy:
    retry_after_days: tuple[int, ...] = (3, 5, 7)  # after the first failure
    grace_days: int = 14
    final_status: Literal["canceled", "unpaid"] = "canceled"
    collect_by: Literal["invoice", "payment_intent"] = "invoice"

    def __post_init__(self) -> None:
        if (
            list(self.retry_after_days) != sorted(set(self.retry_after_days))
            or min(self.retry_after_days, default=1) < 1
        ):
            raise ValueError("retry days must be positive and strictly ascending")
        if self.retry_after_days and self.retry_after_days[-1] > self.grace_days:
            raise ValueError("the last retry must come within the grace period")

    def next_attempt(self, first_failed_at: datetime, failures: int) -> datetime | None:
        """After `failures` failed attempts: when to try again, or None when the retries are over."""
        if failures < 1:
            raise ValueError("at least one failure")
        if failures > len(self.retry_after_days):
            return None
        return first_failed_at + timedelta(days=self.retry_after_days[failures - 1])

    def grace_ends(self, first_failed_at: datetime) -> datetime:
        return first_failed_at + timedelta(days=self.grace_days)
