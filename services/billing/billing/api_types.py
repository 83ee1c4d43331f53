"""Field types the billing API shares: exact decimals (never JSON floats) and ISO 4217 currency codes."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer


def _decimal_string(value: Any) -> Any:
    """Exact input only: a JSON float may already have lost digits."""
    if isinstance(value, float):
        raise ValueError('must be a decimal string, e.g. "0.10"')
    return value


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    Field(allow_inf_nan=False),
    PlainSerializer(lambda value: format(value, "f"), return_type=str),
]

Currency = Annotated[str, AfterValidator(str.upper), Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217")]
