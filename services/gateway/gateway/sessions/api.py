"""Logging in and out. Login and token need no credentials (they are how one gets them); a failed attempt is
committed before the 401, so the lockout counts it."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from tally_runtime.problems import Problem

from gateway.access.dependencies import SESSION_COOKIE, CallerDep
from gateway.access.permissions import of_role
from gateway.access.principal import Principal
from gateway.access.ratelimit import retry_after
from gateway.access.secrets import TOKEN_PREFIX
from gateway.config import GatewaySettings
from gateway.db import SessionDep, sessions_of
from gateway.sessions import service
from gateway.sessions.schemas import Credentials, Me, SessionOut, TokenOut

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def _log_in(request: Request, credentials: Credentials, kind: str) -> service.LoggedIn:
    client_ip = request.client.host if request.client else "unknown"
    async with sessions_of(request)() as session, session.begin():
        if kind == "session" and (old := request.cookies.get(SESSION_COOKIE)):
            await service.log_out(session, old)  # whatever session the browser had is over: no fixation
        outcome = await service.log_in(
            session, _settings(request), credentials.email, credentials.password, client_ip=client_ip, kind=kind
        )
    if isinstance(outcome, service.Refused):
        raise Problem(401, "The email or the password is wrong.")
    if isinstance(outcome, service.LockedOut):
        wait = {"Retry-After": retry_after(outcome.retry_after_s)}
        raise Problem(429, "Too many failed logins: wait before trying again.", headers=wait)
    user = outcome.user
    request.state.principal = Principal(  # for the audit log: who logged in
        "user", user.id, of_role(user.role), "cookie" if kind == "session" else "token", email=user.email
    )
    return outcome


@router.post("/login", response_model=SessionOut)
async def log_in(request: Request, credentials: Credentials) -> JSONResponse:
    """A session cookie for the web UI (a new session id at every login), and the CSRF token that its writes need."""
    settings = _settings(request)
    logged_in = await _log_in(request, credentials, "session")
    user = logged_in.user
    body = SessionOut(user=Me(id=user.id, email=user.email, role=user.role), csrf_token=logged_in.csrf_token or "")
    response = JSONResponse(body.model_dump())
    response.set_cookie(
        SESSION_COOKIE,
        logged_in.secret,
        max_age=settings.session_ttl_s,
        path="/",
        secure=settings.cookie_secure or request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/token")
async def issue_token(request: Request, credentials: Credentials) -> TokenOut:
    """A bearer token for scripts (`Authorization: Bearer tat_...`): no cookie, no CSRF token needed."""
    logged_in = await _log_in(request, credentials, "token")
    return TokenOut(access_token=logged_in.secret, expires_in=_settings(request).token_ttl_s)


@router.post("/logout", status_code=204)
async def log_out(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """Ends the session (and clears its cookie), or the bearer token this is called with; with an API key, nothing."""
    response = Response(status_code=204)
    if caller.via == "cookie":
        await service.log_out(session, request.cookies.get(SESSION_COOKIE, ""))
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    elif caller.via == "token":
        token = request.headers["authorization"].partition(" ")[2].strip()
        if token.startswith(TOKEN_PREFIX):
            await service.log_out(session, token)
    return response


@router.get("/me")
async def me(caller: CallerDep) -> SessionOut:
    """Who the session or token belongs to, and the session's CSRF token (empty for a bearer token)."""
    if caller.kind != "user" or caller.email is None or caller.role is None:
        raise Problem(403, "Only a user's session or token has a `me`; this is an API key.")
    return SessionOut(
        user=Me(id=caller.subject, email=caller.email, role=caller.role), csrf_token=caller.csrf_token or ""
    )
