"""CloudEvents 1.0 envelope in structured JSON mode, shared by every Tally topic."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_EVENT_ID_LENGTH = 255
_MAX_REASON_ERRORS = 5
_EXTENSION_NAME = re.compile(r"^[a-z0-9]+$")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _format_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Accepts only timezone-aware datetimes, stores them in UTC, writes ISO 8601 with a trailing "Z".
UtcDateTime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(_format_utc, return_type=str, when_used="json"),
]

DataT = TypeVar("DataT", bound=BaseModel)


class ContractError(ValueError):
    """A message that cannot be decoded or does not satisfy its contract; `reason` is short and readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 event; unknown top-level attributes are kept as extension attributes."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"propertyNames": {"pattern": _EXTENSION_NAME.pattern}})

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=MAX_EVENT_ID_LENGTH)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str | None = None
    time: UtcDateTime
    datacontenttype: str = "application/json"
    data: DataT

    subject_field: ClassVar[str | None] = None
    """The field of `data` that `subject` repeats (the topic's key); a subclass names it and validation checks it."""

    @classmethod
    def of(cls, event_id: str, data: DataT, *, source: str, time: datetime) -> Self:
        """A valid event of this class: `type` is the class's own, `subject` the data's `subject_field`."""
        (type_name,) = get_args(cls.model_fields["type"].annotation)
        subject = getattr(data, cls.subject_field) if cls.subject_field else None
        return cls(specversion="1.0", id=event_id, source=source, type=type_name, subject=subject, time=time, data=data)

    @model_validator(mode="after")
    def _check_subject(self) -> Self:
        field = self.subject_field
        if field is not None and self.subject != getattr(self.data, field):
            raise PydanticCustomError("subject_mismatch", "subject: must equal data.{field}", {"field": field})
        return self

    @model_validator(mode="after")
    def _check_extension_names(self) -> Self:
        for name in self.model_extra or {}:
            if not _EXTENSION_NAME.fullmatch(name):
                raise PydanticCustomError(
                    "extension_name",
                    "{name}: extension attribute names must be lowercase ASCII letters and digits",
                    {"name": name},
                )
        return self


EventT = TypeVar("EventT", bound=CloudEvent[Any])


def encode_event(event: CloudEvent[Any]) -> bytes:
    """Compact UTF-8 JSON; optional attributes that are unset (None) are left out."""
    unset = {name for name, value in event if value is None and name != "data"}
    return event.model_dump_json(exclude=unset).encode()


def decode_event(raw: bytes, event_cls: type[EventT]) -> EventT:
    """Parse and validate one message; raises ContractError naming the failing fields."""
    try:
        return event_cls.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(error_reason(exc)) from exc


def error_reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    parts = []
    for error in errors[:_MAX_REASON_ERRORS]:
        path = ".".join(str(part) for part in error["loc"])
        parts.append(f"{path}: {error['msg']}" if path else error["msg"])
    if len(errors) > _MAX_REASON_ERRORS:
        parts.append(f"and {len(errors) - _MAX_REASON_ERRORS} more errors")
    return "; ".join(parts)
