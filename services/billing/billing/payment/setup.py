"""The Stripe client from the settings, or None (with a clear log line) when collection is off."""

import logging

from billing.config import BillingSettings
from billing.payment.stripe_api import StripeApi

log = logging.getLogger(__name__)


def stripe_api(settings: BillingSettings) -> StripeApi | None:
    if settings.stripe_api_key is None:
        log.warning("BILLING_STRIPE_API_KEY is not set: invoices are not collected and webhooks are refused")
        return None
    return StripeApi(settings.stripe_api_key, settings.stripe_api_base)
