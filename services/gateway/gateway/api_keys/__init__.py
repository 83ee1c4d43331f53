"""API keys: issued and revoked by admins, stored as hashes, announced on gateway.api-keys.v1."""
