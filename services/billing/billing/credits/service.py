"""Credit use cases: grants of prepaid units, their consumption by invoices, and the monetary balance. The caller
owns the transaction (a request, or the invoice builder's own), and every change is announced through the outbox
in it, keyed by customer id."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.credits import (
    BalanceAdjusted,
    BalanceAdjustedEvent,
    BalanceReason,
    CreditsConsumed,
    CreditsConsumedEvent,
    CreditsGranted,
    CreditsGrantedEvent,
)
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id

from billing.catalog import repository as catalog_repository
from billing.credits import allocation, repository
from billing.credits.models import BalanceTransaction, CreditConsumption, CreditGrant
from billing.credits.schemas import (
    BalanceAdjustmentIn,
    BalanceTransactionOut,
    ConsumptionOut,
    CreditBalance,
    CreditsOut,
    GrantIn,
    GrantOut,
)
from billing.customers.models import Customer
from billing.customers.service import UnknownCustomer, get_customer
from billing.outgoing import publish
from billing.rating.money import exact, round_minor


class InvalidGrant(Exception):
    """Every reason the grant cannot be made, as [{"field", "reason"}]."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid fields")
        self.errors = errors


class BalanceTooLow(Exception):
    def __init__(self, balance_minor: int) -> None:
        super().__init__(f"the balance is {balance_minor}")
        self.balance_minor = balance_minor


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def cost(quantity: Decimal, unit_cost_minor: Decimal) -> int:
    with exact():
        return round_minor(quantity * unit_cost_minor)


def _of_grant(grant: CreditGrant) -> dict[str, Any]:
    """What every credit event repeats of its grant."""
    return {
        "grant_id": grant.id,
        "customer_id": grant.customer_id,
        "credit_type": grant.credit_type,
        "meter": grant.meter,
        "unit_cost_minor": _decimal(grant.unit_cost_minor),
        "currency": grant.currency,
    }


# Grants


async def check_grant(session: AsyncSession, data: GrantIn, purchased_at: datetime) -> None:
    """Raises InvalidGrant naming every bad field: an unknown meter, an expiry not after the purchase."""
    errors: list[dict[str, Any]] = []
    if not await catalog_repository.meter_keys(session, [data.meter]):
        errors.append({"field": "body.meter", "reason": f"no meter has the key {data.meter!r}"})
    if data.expires_at is not None and data.expires_at <= purchased_at:
        since = "purchased_at" if data.purchased_at else "purchased_at (default: now)"
        errors.append({"field": "body.expires_at", "reason": f"must be after {since}"})
    if errors:
        raise InvalidGrant(errors)


async def create_grant(session: AsyncSession, customer_ref: str, data: GrantIn) -> CreditGrant:
    """Raises UnknownCustomer, or InvalidGrant (unknown meter, expiry not after purchase) before writing anything."""
    now = datetime.now(UTC)
    customer = await get_customer(session, customer_ref)
    purchased_at = data.purchased_at or now
    await check_grant(session, data, purchased_at)
    grant = CreditGrant(
        id=new_id("crg"),
        customer_id=customer.id,
        credit_type=data.credit_type,
        meter=data.meter,
        quantity=data.quantity,
        remaining=data.quantity,
        unit_cost_minor=data.unit_cost_minor,
        amount_minor=cost(data.quantity, data.unit_cost_minor),
        currency=customer.currency,
        purchased_at=purchased_at,
        expires_at=data.expires_at,
        description=data.description,
        created_at=now,
    )
    await repository.add(session, grant)
    granted = CreditsGranted(
        **_of_grant(grant),
        quantity=_decimal(grant.quantity),
        amount_minor=grant.amount_minor,
        purchased_at=grant.purchased_at,
        expires_at=grant.expires_at,
        description=grant.description,
    )
    await publish(session, CreditsGrantedEvent, granted, key=grant.customer_id, time=now)
    return grant


@dataclass(frozen=True)
class Holders:
    """Who, among some customers, has prepaid units (per meter) or a monetary balance to spend: read once for a
    batch of invoices, so the many who have neither cost no further query. Only a hint: spending locks and re-reads."""

    units: set[tuple[str, str]]  # (customer id, meter key)
    balance: set[str]  # customer ids


async def holders(session: AsyncSession, customer_ids: Sequence[str], at: datetime) -> Holders:
    return Holders(
        await repository.units_held(session, customer_ids, at), await repository.balances_held(session, customer_ids)
    )


async def consume_units(  # noqa: PLR0917 (the invoice builder calls it with this signature)
    session: AsyncSession,
    customer_id: str,
    meter_key: str,
    quantity: Decimal,
    at: datetime,
    invoice_id: str | None,
    *,
    preview: bool = False,
) -> Decimal:
    """Covers up to `quantity` units of the meter from the customer's grants live at `at` (purchased_at <= at <
    expires_at, or no expiry), first to expire first (then oldest purchase, then id); unless `preview`, records each
    grant's consumption against invoice_id and emits tally.credits.consumed; returns the units covered (0 when
    none). Grants are locked FOR UPDATE so two invoices never spend the same units."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    if quantity <= 0:
        return Decimal(0)
    grants = await repository.spendable_grants(session, customer_id, meter_key, at, lock=not preview)
    candidates = [allocation.Grant(g.id, g.remaining, g.purchased_at, g.expires_at) for g in grants]
    allocations = allocation.allocate(candidates, quantity, at)
    if not preview:
        by_id = {grant.id: grant for grant in grants}
        for share in allocations:
            await _consume(session, by_id[share.grant_id], share.quantity, at, invoice_id)
    return allocation.total(allocations)


async def _consume(
    session: AsyncSession, grant: CreditGrant, quantity: Decimal, at: datetime, invoice_id: str | None
) -> None:
    with exact():
        grant.remaining = grant.remaining - quantity
    consumption = CreditConsumption(
        id=new_id("ccn"),
        grant_id=grant.id,
        customer_id=grant.customer_id,
        credit_type=grant.credit_type,
        meter=grant.meter,
        quantity=quantity,
        amount_minor=cost(quantity, grant.unit_cost_minor),
        invoice_id=invoice_id,
        consumed_at=at,
    )
    await repository.add(session, consumption)
    consumed = CreditsConsumed(
        **_of_grant(grant),
        consumption_id=consumption.id,
        quantity=_decimal(quantity),
        amount_minor=consumption.amount_minor,
        remaining=_decimal(grant.remaining),
        invoice_id=invoice_id,
        consumed_at=at,
    )
    await publish(session, CreditsConsumedEvent, consumed, key=grant.customer_id, time=datetime.now(UTC))


# The monetary balance


async def adjust_balance(session: AsyncSession, customer_ref: str, data: BalanceAdjustmentIn) -> BalanceTransaction:
    """Adds to (or takes back from) the balance; raises UnknownCustomer, or BalanceTooLow when it would go below
    zero."""
    customer = await get_customer(session, customer_ref)
    await repository.customer_for_balance(session, customer.id, lock=True)
    balance = await repository.balance_of(session, customer.id)
    if balance + data.amount_minor < 0:
        raise BalanceTooLow(balance)
    return await _record_balance(
        session,
        customer,
        data.amount_minor,
        balance,
        reason="adjustment",
        invoice_id=None,
        description=data.description,
    )


async def apply_balance(
    session: AsyncSession, customer_id: str, amount_minor: int, invoice_id: str | None, *, preview: bool = False
) -> int:
    """Takes min(balance, amount_minor) (never below 0) from the monetary balance for the invoice, unless preview;
    returns what it took."""
    if amount_minor <= 0:
        return 0
    customer = await repository.customer_for_balance(session, customer_id, lock=not preview)
    if customer is None:
        raise UnknownCustomer(customer_id)
    balance = await repository.balance_of(session, customer_id)
    taken = max(0, min(balance, amount_minor))
    if taken and not preview:
        await _record_balance(
            session, customer, -taken, balance, reason="invoice", invoice_id=invoice_id, description=None
        )
    return taken


async def _record_balance(
    session: AsyncSession,
    customer: Customer,
    amount_minor: int,
    balance_before: int,
    *,
    reason: BalanceReason,
    invoice_id: str | None,
    description: str | None,
) -> BalanceTransaction:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "customer_id": customer.id,
        "reason": reason,
        "amount_minor": amount_minor,
        "balance_minor": balance_before + amount_minor,
        "currency": customer.currency,
        "invoice_id": invoice_id,
        "description": description,
        "created_at": now,
    }
    transaction = BalanceTransaction(id=new_id("cbt"), **fields)
    await repository.add(session, transaction)
    adjusted = BalanceAdjusted(transaction_id=transaction.id, **fields)
    await publish(session, BalanceAdjustedEvent, adjusted, key=customer.id, time=now)
    return transaction


# Reading


async def credits_overview(session: AsyncSession, customer_ref: str, limit: int) -> CreditsOut:
    """Units left per type on the grants live now, the newest grants, consumption and balance changes (at most
    `limit` of each), and the monetary balance; raises UnknownCustomer."""
    now = datetime.now(UTC)
    customer = await get_customer(session, customer_ref)
    balances = await repository.live_balances(session, customer.id, now)
    grants = await repository.latest_grants(session, customer.id, limit)
    consumption = await repository.latest_consumption(session, customer.id, limit)
    transactions = await repository.latest_balance_transactions(session, customer.id, limit)
    return CreditsOut(
        customer_id=customer.id,
        currency=customer.currency,
        balances=[CreditBalance.model_validate(row._asdict()) for row in balances],
        grants=[grant_out(grant, now) for grant in grants],
        consumption=[ConsumptionOut.model_validate(row) for row in consumption],
        monetary_balance_minor=await repository.balance_of(session, customer.id),
        balance_transactions=[BalanceTransactionOut.model_validate(row) for row in transactions],
    )


def grant_out(grant: CreditGrant, now: datetime) -> GrantOut:
    fields = {name: getattr(grant, name) for name in GrantOut.model_fields if name != "expired"}
    return GrantOut.model_validate(fields | {"expired": grant.expired_at(now)})
