"""Proration: the share of a period's price for the time actually used, measured exactly (to the microsecond)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from billing.rating.money import round_share
from billing.rating.periods import Period, require_aware

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class ProrationLine:
    description: str
    amount_minor: int  # negative = credit


def prorated_minor(full_amount_minor: int, period: Period, start: datetime, end: datetime) -> int:
    """full * time used / period length for [start, end) clipped to the period, rounded half-up once."""
    require_aware(start, "start")
    require_aware(end, "end")
    used = min(end, period.end) - max(start, period.start)
    if used <= timedelta(0):
        return 0
    return round_share(full_amount_minor, used // _TICK, (period.end - period.start) // _TICK)


def plan_change_lines(old_price_minor: int, new_price_minor: int, period: Period, at: datetime) -> list[ProrationLine]:
    """A change of plan at `at`: a credit for the old plan's unused rest of the period, a charge for the new one's."""
    require_aware(at, "at")
    if not period.start <= at < period.end:
        raise ValueError("the change must happen within the period")
    span = f"({at.astimezone(UTC).date().isoformat()} to {period.end.astimezone(UTC).date().isoformat()})"
    unused_old = prorated_minor(old_price_minor, period, at, period.end)
    remaining_new = prorated_minor(new_price_minor, period, at, period.end)
    return [
        ProrationLine(f"Unused time on the old plan {span}", -unused_old),
        ProrationLine(f"Remaining time on the new plan {span}", remaining_new),
    ]
