"""GET /v1/dashboard: every panel from the service that owns it, concurrently, each within its own timeout."""
