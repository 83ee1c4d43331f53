from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer


def json_number(value: Decimal) -> int | float:
    """Quantities are exact in the database; integral ones leave as JSON integers."""
    return int(value) if value == value.to_integral_value() else float(value)


Quantity = Annotated[Decimal, PlainSerializer(json_number, return_type=int | float, when_used="json")]


class DailyValue(BaseModel):
    date: date
    value: Quantity


class GroupTotal(BaseModel):
    group: str
    total: Quantity


class UsageReport(BaseModel):
    """The meter's value over the window, per UTC day, and per group for a meter with group_by. For max, latest
    and unique_count the total is the window's own (e.g. distinct values over the whole window), not a sum."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    customer_id: str
    meter: str
    from_: datetime = Field(alias="from")
    to: datetime
    total: Quantity
    daily: list[DailyValue]
    groups: list[GroupTotal] | None = Field(
        None,
        description='Each group\'s total (ordered by group; "" holds events without the property); null '
        "when the meter has no group_by",
    )
