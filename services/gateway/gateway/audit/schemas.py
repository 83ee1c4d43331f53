from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from tally_runtime.pages import NextCursor


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    actor_kind: str | None = Field(description="`user`, `key`, `bootstrap`; null when the caller was not authenticated")
    actor_id: str | None = Field(description="The user's or the key's id")
    method: str
    path: str
    status: int
    request_id: str
    client_ip: str | None
    at: datetime


class AuditList(BaseModel):
    data: list[AuditEntryOut] = Field(description="Newest first")
    next_cursor: NextCursor
