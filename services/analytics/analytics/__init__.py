"""Tally analytics: SaaS metrics, customer health, forecasts and alerts from usage and billing events."""
