from fastapi import APIRouter, Depends
from tally_runtime.pages import DEFAULT_LIMIT, Limit, split_page

from gateway.access.dependencies import require
from gateway.audit import repository
from gateway.audit.schemas import AuditEntryOut, AuditList
from gateway.db import SessionDep
from gateway.validation import Cursor

router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Depends(require("admin"))])


@router.get("")
async def list_audit(session: SessionDep, after: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> AuditList:
    """Every write through the gateway, newest first."""
    rows, cursor = split_page(await repository.newest_first(session, after, limit + 1), limit, lambda row: row.id)
    return AuditList(data=[AuditEntryOut.model_validate(row) for row in rows], next_cursor=cursor)
