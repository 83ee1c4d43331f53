"""Tally usage-ingest: validates usage events and publishes them to usage.events.v1. Stateless."""
