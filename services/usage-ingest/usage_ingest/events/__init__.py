"""Accepting usage events over HTTP."""
