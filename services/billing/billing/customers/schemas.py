from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field
from tally_runtime.pages import NextCursor

from billing.api_types import Currency, ExactDecimal

TaxRate = Annotated[ExactDecimal, Field(ge=0, le=1, description='A fraction: "0.2" is 20%')]
Metadata = Annotated[
    dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=500)]],
    Field(max_length=50, description="Up to 50 string pairs of your own"),
]


class CustomerUpdate(BaseModel):
    """Only the fields given change; `metadata` is replaced whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    tax_rate: TaxRate | None = None
    metadata: Metadata | None = None


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(
        None, min_length=1, max_length=255, description="Your product's id for the customer, as usage events send it"
    )
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    currency: Currency
    tax_rate: TaxRate = Decimal(0)
    metadata: Metadata = Field(default_factory=dict)


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    external_id: str | None
    name: str
    email: str | None
    currency: str
    tax_rate: ExactDecimal
    metadata: dict[str, str] = Field(validation_alias=AliasChoices("metadata_", "metadata"))
    created_at: datetime
    updated_at: datetime


class CustomerList(BaseModel):
    data: list[CustomerOut]
    next_cursor: NextCursor
