"""The demo's meters and plans: the briefs' Starter, Professional and Enterprise plans, monthly and yearly (two
months free), with their limits and an overage of $0.10 per AI request over the limit."""

from typing import Any

METERS: tuple[dict[str, str], ...] = (
    {"key": "api_calls", "event_type": "api_call", "aggregation": "count"},
    {"key": "tokens", "event_type": "api_call", "aggregation": "sum", "property": "tokens"},
    {"key": "ai_requests", "event_type": "ai.request", "aggregation": "count"},
    {"key": "campaign_credits", "event_type": "campaign.sent", "aggregation": "count"},
)

OVERAGE_PER_AI_REQUEST_MINOR = "10"


def _plan(
    key: str, name: str, monthly_minor: int, ai_requests: int, campaigns: int, **features: bool
) -> list[dict[str, Any]]:
    terms = {
        "name": name,
        "currency": "USD",
        "trial_days": 14,
        "charges": [
            {
                "meter": "ai_requests",
                "model": "per_unit",
                "unit_price": OVERAGE_PER_AI_REQUEST_MINOR,
                "included_units": str(ai_requests),
            }
        ],
        "entitlements": {"ai_requests": ai_requests, "campaign_credits": campaigns, **features},
    }
    return [
        {"key": key, "interval": "month", "base_price_minor": monthly_minor, **terms},
        {"key": f"{key}_yearly", "interval": "year", "base_price_minor": monthly_minor * 10, **terms},
    ]


PLANS: tuple[dict[str, Any], ...] = (
    *_plan("starter", "Starter", 4900, 500, 10, advanced_analytics=False, priority_support=False),
    *_plan("professional", "Professional", 9900, 2000, 50, advanced_analytics=True, priority_support=False),
    *_plan("enterprise", "Enterprise", 19900, 10000, 200, advanced_analytics=True, priority_support=True),
)

# The demo's customers (the ids usage events send) and what they subscribe to, `days_ago` before the demo starts:
# history to invoice for two of them, a trial for the third.
# The card each pays with on localstripe: Globex's is declined, to show dunning.
CARDS = {"acme-42": "4242424242424242", "globex-7": "4000000000000341", "initech-3": "4242424242424242"}
CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"external_id": "acme-42", "name": "Acme Corp", "currency": "USD", "tax_rate": "0.2", "email": "ap@acme.example"},
    {
        "external_id": "globex-7",
        "name": "Globex",
        "currency": "USD",
        "tax_rate": "0",
        "email": "billing@globex.example",
    },
    {"external_id": "initech-3", "name": "Initech", "currency": "USD", "tax_rate": "0.08"},
)
SUBSCRIPTIONS: tuple[dict[str, Any], ...] = (
    {"customer_id": "acme-42", "plan_key": "professional", "days_ago": 95, "trial_days": 0},
    {"customer_id": "globex-7", "plan_key": "starter", "days_ago": 40, "trial_days": 0},
    {"customer_id": "initech-3", "plan_key": "enterprise_yearly", "days_ago": 0},
)
