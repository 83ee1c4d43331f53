"""Route dependencies: who is calling (401 when nobody valid), whether a cookie write carries its CSRF token (403),
whether the caller is within its rate (429), and whether it holds the route's permission (403)."""

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, cast

from fastapi import Depends, Request
from tally_runtime.api_keys import KEY_PREFIX, hash_key
from tally_runtime.auth import CHALLENGE, bearer_token, same_secret
from tally_runtime.problems import Problem

from gateway.access.known_keys import KnownKeys
from gateway.access.permissions import EVERYTHING, Permission, Role, of_role, of_scopes
from gateway.access.principal import Principal, Via
from gateway.access.ratelimit import RateLimiter, retry_after
from gateway.access.secrets import TOKEN_PREFIX
from gateway.api_keys import service as api_keys
from gateway.config import GatewaySettings
from gateway.db import sessions_of
from gateway.sessions import service as sessions

SESSION_COOKIE = "tally_session"
CSRF_HEADER = "X-CSRF-Token"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def _user(request: Request, secret: str, kind: Literal["session", "token"]) -> Principal | None:
    # A short session of its own: a forwarded request holds no connection while the upstream works.
    async with sessions_of(request)() as session, session.begin():
        found = await sessions.find(session, _settings(request), secret, kind)
    if found is None:
        return None
    row, user = found
    via: Via = "cookie" if kind == "session" else "token"
    role = cast(Role, user.role)
    return Principal("user", user.id, of_role(role), via, csrf_token=row.csrf_token, email=user.email, role=role)


async def _key(request: Request, token: str) -> Principal | None:
    known: KnownKeys = request.app.state.known_keys
    digest, now = hash_key(token), time.monotonic()
    principal = known.get(digest, now)
    if principal is not None:
        return principal
    async with sessions_of(request)() as session:
        key = await api_keys.find_active_key(session, token)
    if key is None:
        return None
    principal = Principal("key", key.id, of_scopes(key.scopes), "api_key", rate_limit_per_s=key.rate_limit_per_s)
    known.remember(digest, key.id, principal, now)
    return principal


async def _from_bearer(request: Request, token: str) -> Principal | None:
    settings = _settings(request)
    if settings.bootstrap_key_enabled and same_secret(token, settings.bootstrap_api_key.get_secret_value()):
        return Principal("bootstrap", "bootstrap", EVERYTHING, "api_key")
    if token.startswith(KEY_PREFIX):
        return await _key(request, token)
    if token.startswith(TOKEN_PREFIX):
        return await _user(request, token, "token")
    return None


async def authenticate(request: Request) -> Principal:
    """The caller, from `Authorization: Bearer` (an API key, the bootstrap key or an access token) or else the
    session cookie. Remembered on `request.state.principal` (the audit log reads it)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    cookie = request.cookies.get(SESSION_COOKIE)
    if "authorization" in request.headers:
        principal = await _from_bearer(request, bearer_token(request))
    elif cookie:
        principal = await _user(request, cookie, "session")
    else:
        raise Problem(401, "Log in, or send `Authorization: Bearer <API key or token>`.", headers=CHALLENGE)
    if principal is None:
        raise Problem(401, "The credentials are not valid (unknown, revoked or expired).", headers=CHALLENGE)
    request.state.principal = principal
    return principal


def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "cookie" or request.method not in WRITES:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or principal.csrf_token is None or not same_secret(sent, principal.csrf_token):
        raise Problem(403, f"A write with the session cookie needs the session's CSRF token in `{CSRF_HEADER}`.")


def _check_rate(request: Request, principal: Principal) -> None:
    limiter: RateLimiter = request.app.state.limiter
    rate = principal.rate_limit_per_s or _settings(request).rate_limit_per_s
    wait = limiter.take(principal.bucket, rate, time.monotonic())
    if wait > 0:
        raise Problem(
            429,
            f"Too many requests: this credential may make {rate:g} per second.",
            headers={"Retry-After": retry_after(wait)},
        )


async def authenticated(request: Request) -> Principal:
    """Any valid caller, its CSRF token checked and its rate limited; no particular permission."""
    principal = await authenticate(request)
    _check_csrf(request, principal)
    _check_rate(request, principal)
    return principal


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    async def with_permission(request: Request) -> Principal:
        principal = await authenticated(request)
        if permission not in principal.permissions:
            raise Problem(403, f"This needs the {permission!r} permission, which the caller does not have.")
        return principal

    return with_permission


CallerDep = Annotated[Principal, Depends(authenticated)]
