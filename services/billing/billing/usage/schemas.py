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


class UsageReport(BaseModel):
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    customer_id: str
    meter: str
    from_: datetime = Field(alias="from")
    to: datetime
    total: Quantity
    daily: list[DailyValue]
