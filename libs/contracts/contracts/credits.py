"""Credit events (topic billing.events.v1, keyed by customer id, so one customer's credits stay in order).

Two kinds of credit: typed prepaid grants (units of some `credit_type`, e.g. "sms_campaigns", that cover a meter's
usage before any overage) and a monetary balance in the customer's currency that is applied to invoices. Each
event carries what revenue analytics needs without reading billing's tables: who, which type and meter, how many
units at what unit cost, and the amounts in minor units. Quantities and unit costs are exact decimal strings.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import Currency, CustomerId, DecimalText
from .envelope import CloudEvent, UtcDateTime

CREDITS_GRANTED = "tally.credits.granted"
CREDITS_CONSUMED = "tally.credits.consumed"
CREDITS_BALANCE_ADJUSTED = "tally.credits.balance_adjusted"
GRANT_ID_PATTERN = r"^crg_[0-9A-Za-z]+$"
CONSUMPTION_ID_PATTERN = r"^ccn_[0-9A-Za-z]+$"
BALANCE_TRANSACTION_ID_PATTERN = r"^cbt_[0-9A-Za-z]+$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"

# Widening this alias is backward compatible; removing a value is not.
BalanceReason = Literal["adjustment", "invoice"]

GrantId = Annotated[str, Field(pattern=GRANT_ID_PATTERN, max_length=255)]
Key = Annotated[str, Field(pattern=KEY_PATTERN)]


class CreditsGranted(BaseModel):
    """A prepaid grant of units, as created."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    grant_id: GrantId
    customer_id: CustomerId
    credit_type: Key
    """What the units are for, e.g. "sms_campaigns"."""
    meter: Key
    """The key of the meter whose usage the units cover."""
    quantity: DecimalText
    unit_cost_minor: DecimalText
    """What one unit cost, in minor units of `currency` (fractions allowed)."""
    amount_minor: int = Field(ge=0)
    """quantity x unit cost, rounded half-up to a minor unit: what the grant cost."""
    currency: Currency
    purchased_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    """Units are usable from `purchased_at` until (excluding) this moment; never expire when absent."""
    description: str | None = Field(default=None, max_length=500)


class CreditsConsumed(BaseModel):
    """Units of one grant used to cover a meter's usage (on an invoice, when `invoice_id` is given)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    consumption_id: str = Field(pattern=CONSUMPTION_ID_PATTERN, max_length=255)
    grant_id: GrantId
    customer_id: CustomerId
    credit_type: Key
    meter: Key
    quantity: DecimalText
    """Units taken from the grant."""
    unit_cost_minor: DecimalText
    amount_minor: int = Field(ge=0)
    """quantity x the grant's unit cost, rounded half-up: the prepaid value used."""
    currency: Currency
    remaining: DecimalText
    """Units the grant has left after this."""
    invoice_id: str | None = Field(default=None, max_length=255)
    consumed_at: UtcDateTime
    """The moment the usage was covered at (the grant was live then)."""


class BalanceAdjusted(BaseModel):
    """A change of the customer's monetary balance: an adjustment, or a part of it applied to an invoice."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    transaction_id: str = Field(pattern=BALANCE_TRANSACTION_ID_PATTERN, max_length=255)
    customer_id: CustomerId
    reason: BalanceReason
    amount_minor: int
    """Positive adds to the balance, negative takes from it."""
    balance_minor: int = Field(ge=0)
    """The balance after the change."""
    currency: Currency
    invoice_id: str | None = Field(default=None, max_length=255)
    """The invoice the balance was applied to (reason "invoice")."""
    description: str | None = Field(default=None, max_length=500)
    created_at: UtcDateTime


class CreditsGrantedEvent(CloudEvent[CreditsGranted]):
    type: Literal["tally.credits.granted"]
    subject: str

    subject_field = "customer_id"


class CreditsConsumedEvent(CloudEvent[CreditsConsumed]):
    type: Literal["tally.credits.consumed"]
    subject: str

    subject_field = "customer_id"


class BalanceAdjustedEvent(CloudEvent[BalanceAdjusted]):
    type: Literal["tally.credits.balance_adjusted"]
    subject: str

    subject_field = "customer_id"
