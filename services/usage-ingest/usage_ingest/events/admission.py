"""Bounded concurrency: past the limit a request is refused with 429 at once, never queued without bound."""

from collections.abc import Iterator
from contextlib import contextmanager


class Overloaded(Exception):
    pass


class Admission:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    @contextmanager
    def admit(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            raise Overloaded
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
