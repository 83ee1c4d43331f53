"""Forwarding public API calls to the service that owns them."""
