"""When failed logins lock an email or a client IP out, and for how long. Pure."""

from collections.abc import Sequence
from datetime import datetime, timedelta


def locked_for(failures: Sequence[datetime], now: datetime, max_failures: int, window: timedelta) -> float:
    """Seconds until a login may be tried again, given the times of the failures in the window (0: not locked).
    The lock lifts when fewer than `max_failures` remain in the window."""
    recent = sorted(t for t in failures if t > now - window)
    if len(recent) < max_failures:
        return 0.0
    lifts_at = recent[len(recent) - max_failures] + window
    return max(0.0, (lifts_at - now).total_seconds())
