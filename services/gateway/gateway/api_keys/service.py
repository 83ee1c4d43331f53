"""API key use cases. The caller owns the transaction: each change and its announcement commit together."""

from collections.abc import Sequence
from dataclasses import dataclass

from contracts.api_keys import ApiKeyIssued, ApiKeyRevoked, api_key_issued, api_key_revoked
from contracts.topics import API_KEYS
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.api_keys import HASH_ALGORITHM, hash_key, new_secret
from tally_runtime.auth import same_secret
from tally_runtime.ids import new_id
from tally_runtime.outbox import enqueue
from tally_runtime.pages import split_page

from gateway.api_keys import repository
from gateway.api_keys.models import ApiKey
from gateway.api_keys.schemas import ApiKeyCreate
from gateway.db import outbox

SOURCE = "tally/gateway"


class KeyNotFound(Exception):
    pass


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def issue_key(session: AsyncSession, data: ApiKeyCreate) -> IssuedKey:
    """Store a new key's hash and announce it (hash only) on gateway.api-keys.v1."""
    secret = new_secret()
    key = ApiKey(
        id=new_id("key"),
        name=data.name,
        scopes=list(data.scopes),
        hash=hash_key(secret),
        hash_algorithm=HASH_ALGORITHM,
        rate_limit_per_s=data.rate_limit_per_s,
    )
    key = await repository.insert_key(session, key)
    issued = ApiKeyIssued(
        key_id=key.id,
        name=key.name,
        scopes=key.scopes,
        hash=key.hash,
        hash_algorithm=HASH_ALGORITHM,
        issued_at=key.created_at,
    )
    await enqueue(session, outbox, API_KEYS, key.id, api_key_issued(new_id("evt"), issued, SOURCE))
    return IssuedKey(key, secret)


async def revoke_key(session: AsyncSession, key_id: str) -> None:
    """Revoke and announce it; revoking a revoked key changes nothing and announces nothing."""
    revoked_at = await repository.revoke_key(session, key_id)
    if revoked_at is None:
        if await repository.key_by_id(session, key_id) is None:
            raise KeyNotFound(key_id)
        return
    revoked = ApiKeyRevoked(key_id=key_id, revoked_at=revoked_at)
    await enqueue(session, outbox, API_KEYS, key_id, api_key_revoked(new_id("evt"), revoked, SOURCE))


async def list_keys(session: AsyncSession, after: str | None, limit: int) -> tuple[Sequence[ApiKey], str | None]:
    return split_page(await repository.list_keys(session, after, limit + 1), limit, lambda key: key.id)


async def find_active_key(session: AsyncSession, secret: str) -> ApiKey | None:
    """The unrevoked key whose secret this is (looked up by hash; the digests compared again in constant time)."""
    digest = hash_key(secret)
    key = await repository.active_key_by_hash(session, digest)
    return key if key is not None and same_secret(digest, key.hash) else None
