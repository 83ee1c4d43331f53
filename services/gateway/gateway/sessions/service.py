"""Logging in (a cookie session or a bearer token), out, and finding who a session or token belongs to. The caller
owns the transaction, and commits a failed login's record too."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access.passwords import verify_password
from gateway.access.secrets import digest, new_access_token, new_csrf_token, new_session_id
from gateway.config import GatewaySettings
from gateway.sessions import repository
from gateway.sessions.lockout import locked_for
from gateway.sessions.models import UserSession
from gateway.users import repository as users
from gateway.users.models import User

TOUCH_EVERY = timedelta(seconds=60)  # how stale last_seen_at may get before a request updates it (at most)


@dataclass(frozen=True)
class LoggedIn:
    user: User
    secret: str  # the session id (cookie) or the access token: shown once
    csrf_token: str | None


@dataclass(frozen=True)
class LockedOut:
    retry_after_s: float


@dataclass(frozen=True)
class Refused:
    """Wrong credentials: recorded as a failure."""


def _email_key(email: str) -> str:
    return email.strip().lower()


async def log_in(
    session: AsyncSession, settings: GatewaySettings, email: str, password: str, *, client_ip: str, kind: str
) -> LoggedIn | LockedOut | Refused:
    """A new session (kind `session`) or token (kind `token`) for the user with these credentials; locked out
    without checking them after too many recent failures for the email or the client IP."""
    now = await repository.database_now(session)
    window = timedelta(seconds=settings.login_window_s)
    key = _email_key(email)
    by_email, by_ip = await repository.failures_since(session, key, client_ip, now - window)
    wait = max(locked_for(times, now, settings.login_max_failures, window) for times in (by_email, by_ip))
    if wait > 0:
        return LockedOut(wait)
    user = await users.user_by_email(session, key)
    if not await verify_password(None if user is None else user.password_hash, password) or user is None:
        await repository.record_failure(session, key, client_ip)
        return Refused()
    await repository.clear_failures(session, key, now - window)
    await repository.delete_expired(session, user.id, now - timedelta(seconds=settings.session_idle_s))
    # Opened now, not when the transaction began: checking the password can take seconds on a busy machine.
    return await _open(session, settings, user, kind, await repository.clock_now(session))


async def _open(session: AsyncSession, settings: GatewaySettings, user: User, kind: str, opened: datetime) -> LoggedIn:
    is_session = kind == "session"
    secret = new_session_id() if is_session else new_access_token()
    csrf = new_csrf_token() if is_session else None
    lifetime = settings.session_ttl_s if is_session else settings.token_ttl_s
    row = UserSession(
        id_hash=digest(secret),
        user_id=user.id,
        kind=kind,
        csrf_token=csrf,
        created_at=opened,
        last_seen_at=opened,
        expires_at=opened + timedelta(seconds=lifetime),
    )
    await repository.insert_session(session, row)
    return LoggedIn(user, secret, csrf)


async def log_out(session: AsyncSession, secret: str) -> None:
    await repository.delete_session(session, digest(secret))


async def find(
    session: AsyncSession, settings: GatewaySettings, secret: str, kind: str
) -> tuple[UserSession, User] | None:
    """The live session (or token) whose secret this is, and its user; a request keeps a session from idling."""
    now = await repository.database_now(session)
    found = await repository.active_with_user(
        session, digest(secret), kind, now - timedelta(seconds=settings.session_idle_s)
    )
    touch_every = min(TOUCH_EVERY, timedelta(seconds=settings.session_idle_s / 2))
    if found is not None and kind == "session" and now - found[0].last_seen_at > touch_every:
        await repository.touch(session, found[0].id_hash)
    return found
