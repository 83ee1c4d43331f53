"""Money arithmetic: exact decimal work, rounded half-up to whole minor units once per line."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext

_ONE = Decimal(1)
# Enough digits for any realistic product of quantity and price; anything that would still need rounding raises.
_EXACT = Context(prec=100, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
_ROUNDING = Context(prec=100)


@contextmanager
def exact() -> Iterator[None]:
    """Decimal arithmetic inside this block either is exact or raises decimal.Inexact."""
    with localcontext(_EXACT):
        yield


def round_minor(amount: Decimal) -> int:
    """Half-up (ties away from zero) to whole minor units."""
    return int(amount.quantize(_ONE, rounding=ROUND_HALF_UP, context=_ROUNDING))


def round_share(amount_minor: int, numerator: int, denominator: int) -> int:
    """amount * numerator / denominator, computed exactly and rounded half-up once, as round_minor would."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    product = amount_minor * numerator
    quotient, remainder = divmod(abs(product), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if product >= 0 else -quotient
