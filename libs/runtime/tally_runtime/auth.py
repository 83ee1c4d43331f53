"""Bearer API keys: the bootstrap key (TALLY_BOOTSTRAP_API_KEY, which may do everything) and issued keys, each
with scopes. A service says how it finds an issued key by its hash (the gateway: its table; others: the key ring
they keep from gateway.api-keys.v1); the checks are the same everywhere."""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request
from pydantic import SecretStr

from tally_runtime.api_keys import BOOTSTRAP_CALLER, KEY_PREFIX, ApiKeyGrant, Caller, Scope, hash_key
from tally_runtime.problems import Problem

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tally"'}

# Returns the unrevoked key whose hash this is, or None.
KeyFinder = Callable[[str], Awaitable[ApiKeyGrant | None]]


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Send the API key as `Authorization: Bearer <key>`.", headers=CHALLENGE)
    return token.strip()


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time comparison, so response times say nothing about how much of a secret matched."""
    return hmac.compare_digest(presented.encode(), expected.encode())


async def authorize(request: Request, scope: Scope, bootstrap: SecretStr, find: KeyFinder) -> Caller:
    """The caller of `request`, if its key may do `scope`: 401 (with a challenge) for a missing, unknown or revoked
    key, 403 for a valid key without the scope. Also sets `request.state.caller`."""
    token = bearer_token(request)
    if same_secret(token, bootstrap.get_secret_value()):
        caller = BOOTSTRAP_CALLER
    else:
        digest = hash_key(token)
        # The lookup by hash may take variable time, but it reveals only (a prefix of) a hash, which does not help
        # to find a secret; the final comparison of the digests is constant-time anyway.
        grant = await find(digest) if token.startswith(KEY_PREFIX) else None
        if grant is None or not same_secret(digest, grant.hash):
            raise Problem(401, "The API key is not valid.", headers=CHALLENGE)
        caller = Caller(grant.key_id, grant.scopes)
    if scope not in caller.scopes:
        raise Problem(403, f"The API key lacks the {scope!r} scope.")
    request.state.caller = caller
    return caller
