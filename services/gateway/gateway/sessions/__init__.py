"""Logging in and out: cookie sessions for the web UI, bearer tokens for scripts, and the lockout after failures."""
