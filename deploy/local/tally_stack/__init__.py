"""The embedded local stack behind `make run`: broker, PostgreSQL, topics, roles and every service."""
