"""Pure: which answers to retry, how long to wait, and which events a 422 names. No I/O here."""

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

_EVENT_FIELD = re.compile(r"^body\.events\.(\d+)(?:\.(.+))?$")
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class RetryPolicy:
    max_duration: float = 60.0
    """Seconds from a batch's first attempt after which it is not retried again; then it has failed."""
    backoff_base: float = 0.1
    """The first retry waits up to this long; each further one up to twice the one before..."""
    backoff_max: float = 5.0
    """...but never more than this (Retry-After may ask for longer)."""

    def __post_init__(self) -> None:
        if self.max_duration < 0 or self.backoff_base <= 0 or self.backoff_max < self.backoff_base:
            raise ValueError("need max_duration >= 0 and 0 < backoff_base <= backoff_max")


def is_retryable(status: int) -> bool:
    """Worth sending the same batch again: a timeout, rate limiting, or a server-side failure."""
    return status in (408, 429) or 500 <= status <= 599


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(backoff_max, backoff_base * 2**attempt)].
    `attempt` counts from 0 for the first retry."""
    ceiling = min(policy.backoff_max, policy.backoff_base * 2 ** min(max(attempt, 0), _MAX_EXPONENT))
    return rng.uniform(0, ceiling)


def retry_delay(attempt: int, retry_after: float | None, policy: RetryPolicy, rng: random.Random) -> float:
    """The wait before the next attempt: the jittered backoff, but never less than the server's Retry-After."""
    delay = backoff(attempt, policy, rng)
    return delay if retry_after is None else max(delay, retry_after)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date. None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def problem_of(content: bytes) -> dict[str, Any]:
    """The JSON object of an error answer, or {} when it is not one."""
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def describe_problem(status: int, problem: dict[str, Any]) -> str:
    detail = problem.get("detail") or problem.get("title") or ""
    return f"HTTP {status}: {detail}" if detail else f"HTTP {status}"


def rejected_events(batch_size: int, problem: dict[str, Any]) -> dict[int, str] | None:
    """What a 422 says about a batch of `batch_size`: {index: reason} for each event it names.

    None when the answer cannot be pinned on particular events (no errors, a field outside `body.events.<i>`, an
    index past the batch); then the whole batch is refused."""
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    reasons: dict[int, list[str]] = {}
    for error in errors:
        if not isinstance(error, dict):
            return None
        match = _EVENT_FIELD.match(str(error.get("field", "")))
        if match is None or int(match.group(1)) >= batch_size:
            return None
        reason = str(error.get("reason", "invalid"))
        reasons.setdefault(int(match.group(1)), []).append(f"{match.group(2)}: {reason}" if match.group(2) else reason)
    return {index: "; ".join(parts) for index, parts in sorted(reasons.items())}
