"""Who may call ingest: the bootstrap key, or a key of the ring with the route's scope. No call to the gateway."""

from collections.abc import Awaitable, Callable

from fastapi import Request
from tally_runtime.api_keys import ApiKeyGrant, Caller, Scope
from tally_runtime.auth import authorize
from tally_runtime.problems import Problem
from tally_runtime.settings import BootstrapKeySettings

from usage_ingest.keys.keyring import KeyRing

LOADING_RETRY_AFTER_S = "1"


def require_scope(scope: Scope) -> Callable[[Request], Awaitable[Caller]]:
    """Route dependency: 401 for a missing, unknown or revoked key, 403 for a key without `scope`, and 503 for a
    key not found while the ring is still loading (it may be valid: retry, rather than give up on the key)."""

    async def caller_with_scope(request: Request) -> Caller:
        settings: BootstrapKeySettings = request.app.state.settings

        async def find(digest: str) -> ApiKeyGrant | None:
            ring: KeyRing = request.app.state.key_ring
            grant = ring.find(digest)
            if grant is None and not ring.caught_up:
                raise Problem(
                    503, "API keys are still loading; retry shortly.", headers={"Retry-After": LOADING_RETRY_AFTER_S}
                )
            return grant

        return await authorize(request, scope, settings.bootstrap_api_key, find)

    return caller_with_scope
