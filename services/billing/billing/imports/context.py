"""What one import run carries from customer to customer: its counts, its settings, and the customer's timeline."""

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from billing.imports.stripe_objects import Customer, Invoice, Raw, Subscription
from billing.payment.money_back import MoneyBack

MAX_SKIPPED = 200
LAST = 9  # the rank of a step that comes after everything else at its moment


@dataclass
class Progress:
    """What a run did so far: (kind, outcome) counts, and why objects were skipped (the first MAX_SKIPPED)."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)  # and problems with what was imported

    def count(self, kind: str, outcome: str) -> None:
        self.counts[kind, outcome] += 1

    def skip(self, kind: str, stripe_id: str, reason: str) -> None:
        self.count(kind, "skipped")
        self.problem(kind, stripe_id, reason)

    def problem(self, kind: str, stripe_id: str, reason: str) -> None:
        """Why an object was skipped, or imported otherwise than Stripe has it (counted as what it became)."""
        if len(self.skipped) < MAX_SKIPPED:
            self.skipped.append({"kind": kind, "stripe_id": stripe_id, "reason": reason})

    def plus(self, other: "Progress") -> "Progress":
        return Progress(self.counts + other.counts, (self.skipped + other.skipped)[:MAX_SKIPPED])


@dataclass(frozen=True)
class Run:
    import_id: str
    now: datetime
    default_currency: str
    plans: dict[str, str] = field(default_factory=dict)  # price ref -> plan key, as this run found or made them
    # The account's refunds and disputes by payment intent, read once at the start of the run.
    money_back: dict[str, list[MoneyBack]] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerData:
    """One Stripe customer and everything of his the import reads."""

    customer: Customer
    subscriptions: Sequence[Subscription]
    invoices: Sequence[Invoice]
    product_names: Mapping[str, str | None]
    payment_intents: Mapping[str, str | None]  # by Stripe invoice id, where the API keeps payments apart
    meters: Mapping[str, Raw | None] = field(default_factory=dict)  # Stripe billing meters its new plans bill


class Timeline:
    """Steps played in the order they happened: by moment, then rank (customer, subscription, invoice, its
    transitions, payment), then the order they were added in."""

    def __init__(self) -> None:
        self._steps: list[tuple[datetime, int, int, Callable[[], Awaitable[object]]]] = []

    def add(self, at: datetime, rank: int, step: Callable[[], Awaitable[object]]) -> None:
        self._steps.append((at, rank, len(self._steps), step))

    async def play(self) -> None:
        for *_, step in sorted(self._steps, key=lambda s: s[:3]):
            await step()
