"""The audit log: every write through the gateway (who, what, when, its request id), never a body."""
