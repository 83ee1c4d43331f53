"""Customer events (topic billing.events.v1, keyed by customer id)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import CloudEvent, UtcDateTime

CUSTOMER_CREATED = "tally.customer.created"
CUSTOMER_UPDATED = "tally.customer.updated"
CUSTOMER_ID_PATTERN = r"^cus_[0-9A-Za-z]+$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

# Field types every billing event shares.
CustomerId = Annotated[str, Field(pattern=CUSTOMER_ID_PATTERN, max_length=255)]
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN)]
DecimalText = Annotated[str, Field(pattern=DECIMAL_PATTERN)]


class Customer(BaseModel):
    """The customer as it is after the change."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    customer_id: CustomerId
    external_id: str | None = Field(default=None, max_length=255)
    """The product's own id for the customer; usage events name the customer by it."""
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    currency: Currency
    tax_rate: DecimalText
    """A fraction as an exact decimal string: "0.2" is 20%."""
    metadata: dict[str, str] = Field(default_factory=dict)
    updated_at: UtcDateTime


class CustomerCreatedEvent(CloudEvent[Customer]):
    type: Literal["tally.customer.created"]
    subject: str

    subject_field = "customer_id"


class CustomerUpdatedEvent(CloudEvent[Customer]):
    type: Literal["tally.customer.updated"]
    subject: str

    subject_field = "customer_id"
