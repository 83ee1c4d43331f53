"""Tally gateway: the one public front door. It authenticates and forwards to the owning service."""
