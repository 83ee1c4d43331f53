"""Pure: one batch's way from its first POST to its end, driven by the clients' I/O loops. No I/O here.

The driver sends `body()`, then reports what came back with `on_response` or `on_transport_error`; each returns
None when the batch is settled, else the seconds to wait before sending `body()` again. Every attempt carries the
same event ids, so Tally's deduplication makes resending safe whatever happened to the previous attempt.
"""

import random
from dataclasses import dataclass, field

from tally_client.events import request_body
from tally_client.retry import (
    RetryPolicy,
    describe_problem,
    is_retryable,
    problem_of,
    rejected_events,
    retry_delay,
)


@dataclass
class Delivery:
    pending: list[bytes]
    """Events still to be acknowledged; the next request's body."""
    policy: RetryPolicy
    started: float
    """Monotonic seconds of the first attempt: the retry budget runs from here."""
    rng: random.Random = field(default_factory=random.Random)
    sent: int = 0
    retried: int = 0
    """Event resends after a transient failure (a batch of 10 retried twice counts 20)."""
    retries: int = 0
    rejected: list[tuple[bytes, str]] = field(default_factory=list)
    """Events Tally refused as invalid (422), with the reason; not resent."""
    failed: list[bytes] = field(default_factory=list)
    failure: str | None = None
    status: int | None = None
    """The last HTTP status seen, if any."""
    gave_up: bool = False
    """Failed because the retry budget was spent (Tally unreachable or overloaded), not because of the batch."""

    @property
    def done(self) -> bool:
        return not self.pending

    def body(self) -> bytes:
        return request_body(self.pending)

    def on_response(self, status: int, retry_after: float | None, content: bytes, now: float) -> float | None:
        self.status = status
        if 200 <= status < 300:
            self.sent += len(self.pending)
            self.pending = []
            return None
        problem = problem_of(content)
        if status == 422:
            return self._split(problem)
        if is_retryable(status):
            return self._retry(describe_problem(status, problem), retry_after, now)
        if status in (401, 403):
            self.fail(f"{describe_problem(status, problem)} (the API key was refused; not retried)")
        else:
            self.fail(f"{describe_problem(status, problem)} (not retried)")
        return None

    def on_transport_error(self, description: str, now: float) -> float | None:
        return self._retry(description, None, now)

    def fail(self, reason: str) -> None:
        """Give up on every pending event."""
        self.failed.extend(self.pending)
        self.pending = []
        self.failure = reason

    def _split(self, problem: dict[str, object]) -> float | None:
        """Drop exactly the events the 422 names and send the rest again at once. Each 422 must name at least one
        pending event, so this ends; Tally validates in stages (shape, then time window), hence maybe twice."""
        bad = rejected_events(len(self.pending), problem)
        if bad is None:
            self.fail(describe_problem(422, problem) + " (the errors name no event; not retried)")
            return None
        self.rejected.extend((self.pending[index], reason) for index, reason in bad.items())
        self.pending = [event for index, event in enumerate(self.pending) if index not in bad]
        return 0.0 if self.pending else None

    def _retry(self, reason: str, retry_after: float | None, now: float) -> float | None:
        delay = retry_delay(self.retries, retry_after, self.policy, self.rng)
        if now + delay > self.started + self.policy.max_duration:
            elapsed = now - self.started
            self.gave_up = True
            self.fail(f"{reason} (gave up after {self.retries + 1} attempts in {elapsed:.1f}s)")
            return None
        self.retries += 1
        self.retried += len(self.pending)
        return delay
