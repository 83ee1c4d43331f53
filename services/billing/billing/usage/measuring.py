"""Measuring many windows whose customers may repeat (a customer with two subscriptions on different periods)."""

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from billing.usage.service import measure
from billing.usage.window import UsageWindow

Measured = dict[UsageWindow, dict[str, dict[str | None, Decimal]]]  # window -> meter key -> group -> quantity


async def measure_each(session: AsyncSession, meter_keys: Sequence[str], windows: Sequence[UsageWindow]) -> Measured:
    """Every window's quantities. `measure` takes one window per customer, so a customer's further windows go in
    further rounds (rarely more than one)."""
    measured: Measured = {window: {} for window in windows}
    rounds: list[dict[str, UsageWindow]] = []
    for window in measured:
        free = next((r for r in rounds if window.customer_id not in r), None)
        if free is None:
            rounds.append(free := {})
        free[window.customer_id] = window
    for by_customer in rounds if meter_keys else []:
        for (customer_id, meter, group), quantity in (
            await measure(session, meter_keys, list(by_customer.values()))
        ).items():
            measured[by_customer[customer_id]].setdefault(meter, {})[group] = quantity
    return measured
