from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.access.permissions import Role
from gateway.validation import PlainText


class Credentials(BaseModel):
    """Checked against the stored hash only: any string may be tried (a wrong one is a 401, not a 422)."""

    model_config = ConfigDict(extra="forbid")

    email: PlainText = Field(min_length=1, max_length=320, examples=["ann@example.com"])
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    id: str
    email: str
    role: Role


class SessionOut(BaseModel):
    user: Me
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` with every write made with the session cookie")


class TokenOut(BaseModel):
    access_token: str = Field(description="Send it as `Authorization: Bearer <token>`")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until it expires")
