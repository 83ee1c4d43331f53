from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from tally_runtime.pages import NextCursor

from gateway.access.permissions import Role
from gateway.config import MIN_PASSWORD_LENGTH, require_real_password


def normalized_email(value: str) -> str:
    """A deliverable-looking address, compared without regard to case: `Ann@Example.COM` is `ann@example.com`."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def _strong(value: SecretStr) -> SecretStr:
    return require_real_password(value, "password")


Email = Annotated[str, Field(max_length=320, examples=["ann@example.com"]), AfterValidator(normalized_email)]
Password = Annotated[
    SecretStr,
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024, description=f"{MIN_PASSWORD_LENGTH}+ characters"),
    AfterValidator(_strong),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    role: Role


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    password: Password | None = None
    role: Role | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    role: Role
    created_at: datetime
    updated_at: datetime


class UserList(BaseModel):
    data: list[UserOut]
    next_cursor: NextCursor
