from datetime import datetime
from typing import Self

from contracts.billing import Aggregation
from contracts.usage import EVENT_TYPE_PATTERN
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tally_runtime.pages import NextCursor

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"


class MeterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="Stable name, e.g. `tokens`")
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN, description="Usage events of this type are measured")
    aggregation: Aggregation
    property: str | None = Field(None, min_length=1, max_length=100, description="Summed property (sum only)")

    @model_validator(mode="after")
    def _property_fits_aggregation(self) -> Self:
        if self.aggregation == "sum" and self.property is None:
            raise ValueError("property: required when aggregation is sum")
        if self.aggregation == "count" and self.property is not None:
            raise ValueError("property: not allowed when aggregation is count")
        return self


class MeterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key: str
    event_type: str
    aggregation: Aggregation
    property: str | None
    created_at: datetime


class MeterList(BaseModel):
    data: list[MeterOut]
    next_cursor: NextCursor
