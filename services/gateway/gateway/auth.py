"""Who may call the gateway: the bootstrap key, or an unrevoked key of its own table with the route's scope."""

from collections.abc import Awaitable, Callable

from fastapi import Request
from tally_runtime.api_keys import ApiKeyGrant, Caller, Scope
from tally_runtime.auth import authorize

from gateway.api_keys import service
from gateway.config import GatewaySettings
from gateway.db import sessions_of


def require_scope(scope: Scope) -> Callable[[Request], Awaitable[Caller]]:
    """Route dependency: 401 for a missing, unknown or revoked key; 403 for a key without `scope`."""

    async def caller_with_scope(request: Request) -> Caller:
        settings: GatewaySettings = request.app.state.settings

        async def find(digest: str) -> ApiKeyGrant | None:
            # A short session of its own: a forwarded request holds no connection while the upstream works.
            async with sessions_of(request)() as session:
                return await service.find_active(session, digest)

        return await authorize(request, scope, settings.bootstrap_api_key, find)

    return caller_with_scope
