"""GET /v1/stream: live events (billing, alerts) as server-sent events, to every connected client of this process."""
