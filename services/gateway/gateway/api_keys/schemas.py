from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from tally_runtime.api_keys import SCOPES, Scope
from tally_runtime.pages import NextCursor

from gateway.validation import PlainText


def _distinct_in_order(scopes: list[Scope]) -> list[Scope]:
    return [scope for scope in SCOPES if scope in scopes]


Scopes = Annotated[list[Scope], Field(min_length=1), AfterValidator(_distinct_in_order)]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PlainText = Field(min_length=1, max_length=100, description="What the key is for, e.g. `production backend`")
    scopes: Scopes = Field(description="Any of `ingest` (send usage), `read` (meters, usage) and `admin` (manage)")
    rate_limit_per_s: float | None = Field(
        None, gt=0, le=100_000, description="Requests per second this key may make; null: the gateway's default"
    )


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    scopes: list[Scope]
    rate_limit_per_s: float | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssuedOut(BaseModel):
    """The answer to issuing a key: the only time its secret is shown."""

    id: str
    name: str
    scopes: list[Scope]
    key: str = Field(description="The secret: send it as `Authorization: Bearer <key>`. It is not shown again.")
    rate_limit_per_s: float | None
    created_at: datetime


class ApiKeyList(BaseModel):
    data: list[ApiKeyOut]
    next_cursor: NextCursor
