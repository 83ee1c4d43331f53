"""API key events (topic gateway.api-keys.v1, compacted, keyed by key id).

The gateway announces every key it issues or revokes, so services authenticate callers without asking it. The
secret itself never travels: only its hash, which a service compares with the hash of the key a caller presents.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import CloudEvent, UtcDateTime

API_KEY_ISSUED = "tally.api_key.issued"
API_KEY_REVOKED = "tally.api_key.revoked"
KEY_ID_PATTERN = r"^key_[0-9A-Za-z]+$"
SCOPE_PATTERN = r"^[a-z][a-z0-9_.:-]{0,49}$"
HASH_PATTERN = r"^[0-9a-f]{32,128}$"

# Widening this alias (a stronger algorithm) is backward compatible; removing a value is not.
HashAlgorithm = Literal["sha256"]


class ApiKeyIssued(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    key_id: str = Field(pattern=KEY_ID_PATTERN, max_length=255)
    name: str = Field(min_length=1, max_length=100)
    """What the key is for, as its issuer named it."""
    scopes: list[Annotated[str, Field(pattern=SCOPE_PATTERN)]] = Field(min_length=1)
    """What the key may do: today "ingest", "read" and "admin". A consumer ignores scopes it does not know."""
    hash: str = Field(pattern=HASH_PATTERN)
    """Lowercase hex digest of the whole secret (its UTF-8 bytes) under `hash_algorithm`; never the secret."""
    hash_algorithm: HashAlgorithm
    issued_at: UtcDateTime


class ApiKeyRevoked(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    key_id: str = Field(pattern=KEY_ID_PATTERN, max_length=255)
    revoked_at: UtcDateTime


class ApiKeyIssuedEvent(CloudEvent[ApiKeyIssued]):
    """Keyed by `data.key_id`; `subject` and `time` repeat the key id and the issue time."""

    type: Literal["tally.api_key.issued"]
    subject: str

    subject_field = "key_id"


class ApiKeyRevokedEvent(CloudEvent[ApiKeyRevoked]):
    """Keyed by `data.key_id`; once revoked, a key stays revoked."""

    type: Literal["tally.api_key.revoked"]
    subject: str

    subject_field = "key_id"


# Any message of the topic; validate with pydantic.TypeAdapter(ApiKeyEvent).
ApiKeyEvent = Annotated[ApiKeyIssuedEvent | ApiKeyRevokedEvent, Field(discriminator="type")]


def api_key_issued(event_id: str, data: ApiKeyIssued, source: str) -> ApiKeyIssuedEvent:
    """Build a valid event whose time is the issue time."""
    return ApiKeyIssuedEvent.of(event_id, data, source=source, time=data.issued_at)


def api_key_revoked(event_id: str, data: ApiKeyRevoked, source: str) -> ApiKeyRevokedEvent:
    """Build a valid event whose time is the revocation time."""
    return ApiKeyRevokedEvent.of(event_id, data, source=source, time=data.revoked_at)
