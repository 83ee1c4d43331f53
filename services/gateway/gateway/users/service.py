"""User use cases (admin only, checked by the routes). The caller owns the transaction."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.pages import split_page

from gateway.access.passwords import hash_password
from gateway.sessions import repository as sessions
from gateway.users import repository
from gateway.users.models import User
from gateway.users.repository import DuplicateEmail
from gateway.users.schemas import UserCreate, UserUpdate

__all__ = ["DuplicateEmail", "LastAdmin", "UserNotFound", "create_user", "delete_user", "list_users", "update_user"]


class UserNotFound(Exception):
    pass


class LastAdmin(Exception):
    """The change would leave nobody able to manage users."""


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    password_hash = await hash_password(data.password.get_secret_value())
    user = User(id=new_id("usr"), email=data.email, role=data.role, password_hash=password_hash)
    return await repository.insert_user(session, user)


async def ensure_admin(session: AsyncSession, email: str, password: str) -> bool:
    """The first admin (TALLY_ADMIN_EMAIL): created when no user has that email; an existing one is left as it is.
    True when it was created."""
    if await repository.user_by_email(session, email) is not None:
        return False
    return await repository.insert_if_absent(session, new_id("usr"), email, "admin", await hash_password(password))


async def list_users(session: AsyncSession, after: str | None, limit: int) -> tuple[Sequence[User], str | None]:
    return split_page(await repository.list_users(session, after, limit + 1), limit, lambda user: user.id)


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await repository.user_by_id(session, user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user


async def _locked(session: AsyncSession, user_id: str) -> User:
    await repository.lock_admins(session)
    user = await repository.user_by_id(session, user_id, lock=True)
    if user is None:
        raise UserNotFound(user_id)
    return user


async def update_user(session: AsyncSession, user_id: str, data: UserUpdate) -> User:
    """A new password or role ends the user's sessions and tokens (they were granted under the old terms)."""
    user = await _locked(session, user_id)
    if data.role is not None and data.role != "admin" and user.role == "admin":
        await _keep_an_admin(session)
    changes = {"email": data.email, "role": data.role}
    if data.password is not None:
        changes["password_hash"] = await hash_password(data.password.get_secret_value())
    if data.password is not None or data.role is not None:
        await sessions.delete_for_user(session, user.id)
    return await repository.update_user(session, user, {k: v for k, v in changes.items() if v is not None})


async def delete_user(session: AsyncSession, user_id: str) -> None:
    user = await _locked(session, user_id)
    if user.role == "admin":
        await _keep_an_admin(session)
    await repository.delete_user(session, user_id)


async def _keep_an_admin(session: AsyncSession) -> None:
    if await repository.lock_admins(session) <= 1:
        raise LastAdmin()
