"""API keys as every service sees them: the secret's format, its one hash, and what a key grants.

A key is `tk_live_` and 40 random base62 characters (about 238 bits). Only `hash_key(secret)` is stored and
announced. Plain SHA-256 is enough because the secret is random, not chosen by a person: there is nothing to
guess, so a slow password hash (bcrypt, argon2) would add only latency to every request, and an HMAC pepper would
be one more secret to share between the gateway and every service that checks keys, protecting nothing a 238-bit
preimage search does not already protect.
"""

import hashlib
import secrets
import string
from dataclasses import dataclass
from typing import Literal, get_args

KEY_PREFIX = "tk_live_"
SECRET_LENGTH = 40
HASH_ALGORITHM: Literal["sha256"] = "sha256"
_ALPHABET = string.ascii_letters + string.digits

# `admin` manages keys and the catalog; `read` reads it and usage; `ingest` sends usage. No scope implies another.
Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)


def new_secret() -> str:
    """A fresh key, e.g. `tk_live_3yT9kQ2mX7vB...`: shown to its owner once, never stored."""
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))


def hash_key(secret: str) -> str:
    """The lowercase hex SHA-256 of the key's UTF-8 bytes: what the gateway stores and announces."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKeyGrant:
    """An issued, unrevoked key as a service knows it: its id, what it may do, and its hash."""

    key_id: str
    scopes: frozenset[str]
    hash: str


@dataclass(frozen=True)
class Caller:
    """Who made a request: an issued key, or the bootstrap key (`key_id` None), which may do everything."""

    key_id: str | None
    scopes: frozenset[str]

    @property
    def is_bootstrap(self) -> bool:
        return self.key_id is None


BOOTSTRAP_CALLER = Caller(None, frozenset(SCOPES))
