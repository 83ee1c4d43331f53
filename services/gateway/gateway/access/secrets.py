"""Session ids and bearer tokens for people: random, shown once, stored as SHA-256 (like API keys, they are random,
so a slow hash would add nothing but latency)."""

import hashlib
import secrets

TOKEN_PREFIX = "tat_"  # an access token from POST /v1/auth/token; API keys start with tk_


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_access_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
