"""Token buckets per credential, in this process's memory: with N gateway processes a credential gets up to N times
its rate. Pure apart from the clock it is given."""

import math
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, burst_s: float, max_buckets: int = 100_000) -> None:
        self.burst_s = burst_s
        self.max_buckets = max_buckets
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, rate_per_s: float, now: float) -> float:
        """Take one token from `key`'s bucket (refilled at `rate_per_s`, holding `burst_s` seconds of requests, at
        least 1): 0.0 when there was one, else the seconds until there is."""
        capacity = max(1.0, rate_per_s * self.burst_s)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_buckets:
                self._buckets.clear()  # a flood of credentials: forgetting buckets only ever lets requests through
            bucket = self._buckets[key] = Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate_per_s)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate_per_s


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
