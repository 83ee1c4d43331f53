"""API keys as ingest knows them: the key ring it keeps from gateway.api-keys.v1, and the scope check."""
