"""Issuing, listing and revoking API keys (admin scope)."""

from fastapi import APIRouter, Depends, Request, Response
from tally_runtime.pages import DEFAULT_LIMIT, Limit
from tally_runtime.problems import Problem

from gateway.access.dependencies import require
from gateway.access.known_keys import KnownKeys
from gateway.api_keys import service
from gateway.api_keys.schemas import ApiKeyCreate, ApiKeyIssuedOut, ApiKeyList, ApiKeyOut
from gateway.db import SessionDep
from gateway.validation import Cursor, ResourceId

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], dependencies=[Depends(require("admin"))])


@router.post("", status_code=201)
async def issue_key(data: ApiKeyCreate, session: SessionDep) -> ApiKeyIssuedOut:
    issued = await service.issue_key(session, data)
    key = issued.key
    return ApiKeyIssuedOut(
        id=key.id,
        name=key.name,
        scopes=key.scopes,
        key=issued.secret,
        rate_limit_per_s=key.rate_limit_per_s,
        created_at=key.created_at,
    )


@router.get("")
async def list_keys(
    session: SessionDep,
    after: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ApiKeyList:
    keys, cursor = await service.list_keys(session, after, limit)
    return ApiKeyList(data=[ApiKeyOut.model_validate(key) for key in keys], next_cursor=cursor)


@router.delete("/{key_id}", status_code=204)
async def revoke_key(key_id: ResourceId, session: SessionDep, request: Request) -> Response:
    try:
        await service.revoke_key(session, key_id)
    except service.KeyNotFound:
        raise Problem(404, f"No API key {key_id!r}.") from None
    known: KnownKeys = request.app.state.known_keys
    known.forget(key_id)
    return Response(status_code=204)
