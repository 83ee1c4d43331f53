"""Managing users (admin only)."""

from fastapi import APIRouter, Depends, Response
from tally_runtime.pages import DEFAULT_LIMIT, Limit
from tally_runtime.problems import Problem

from gateway.access.dependencies import require
from gateway.db import SessionDep
from gateway.users import service
from gateway.users.schemas import UserCreate, UserList, UserOut, UserUpdate
from gateway.validation import Cursor, ResourceId

router = APIRouter(prefix="/v1/users", tags=["users"], dependencies=[Depends(require("admin"))])


def _not_found(user_id: str) -> Problem:
    return Problem(404, f"No user {user_id!r}.")


def _duplicate(email: str) -> Problem:
    return Problem(409, f"A user with the email {email!r} exists already.")


LAST_ADMIN = Problem(409, "That would leave no admin: make another user an admin first.")


@router.get("")
async def list_users(session: SessionDep, after: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> UserList:
    users, cursor = await service.list_users(session, after, limit)
    return UserList(data=[UserOut.model_validate(user) for user in users], next_cursor=cursor)


@router.post("", status_code=201)
async def create_user(data: UserCreate, session: SessionDep) -> UserOut:
    try:
        return UserOut.model_validate(await service.create_user(session, data))
    except service.DuplicateEmail:
        raise _duplicate(data.email) from None


@router.get("/{user_id}")
async def get_user(user_id: ResourceId, session: SessionDep) -> UserOut:
    try:
        return UserOut.model_validate(await service.get_user(session, user_id))
    except service.UserNotFound:
        raise _not_found(user_id) from None


@router.patch("/{user_id}")
async def update_user(user_id: ResourceId, data: UserUpdate, session: SessionDep) -> UserOut:
    """A new password or role also ends the user's sessions and tokens."""
    try:
        return UserOut.model_validate(await service.update_user(session, user_id, data))
    except service.UserNotFound:
        raise _not_found(user_id) from None
    except service.DuplicateEmail:
        raise _duplicate(data.email or "") from None
    except service.LastAdmin:
        raise LAST_ADMIN from None


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: ResourceId, session: SessionDep) -> Response:
    try:
        await service.delete_user(session, user_id)
    except service.UserNotFound:
        raise _not_found(user_id) from None
    except service.LastAdmin:
        raise LAST_ADMIN from None
    return Response(status_code=204)
