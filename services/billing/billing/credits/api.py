from typing import Annotated

from fastapi import APIRouter, Query
from tally_runtime.problems import Problem

from billing.credits import service
from billing.credits.schemas import BalanceAdjustmentIn, BalanceTransactionOut, CreditsOut, GrantIn, GrantOut
from billing.customers.api import unknown_customer
from billing.customers.service import UnknownCustomer
from billing.db import SessionDep

router = APIRouter(prefix="/v1/customers", tags=["credits"])


@router.get("/{customer_ref}/credits")
async def customer_credits(
    customer_ref: str,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many grants, consumptions and changes")] = 50,
) -> CreditsOut:
    """Units left per credit type, the newest grants (with what each has left), consumption history and the
    monetary balance. By our `cus_` id or your external id."""
    try:
        return await service.credits_overview(session, customer_ref, limit)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None


@router.post("/{customer_ref}/credit-grants", status_code=201)
async def grant_credits(customer_ref: str, data: GrantIn, session: SessionDep) -> GrantOut:
    """Prepaid units of a credit type that cover a meter's usage, first to expire first, before any overage."""
    try:
        grant = await service.create_grant(session, customer_ref, data)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None
    except service.InvalidGrant as exc:
        raise invalid_grant(exc) from None
    return service.grant_out(grant, grant.created_at)


def invalid_grant(exc: service.InvalidGrant) -> Problem:
    return Problem(422, "The grant is invalid; see errors.", errors=exc.errors)


@router.post("/{customer_ref}/balance-adjustments", status_code=201)
async def adjust_balance(customer_ref: str, data: BalanceAdjustmentIn, session: SessionDep) -> BalanceTransactionOut:
    """Credit (positive) or debit (negative, down to a zero balance) in the customer's currency; invoices use it up."""
    try:
        transaction = await service.adjust_balance(session, customer_ref, data)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None
    except service.BalanceTooLow as exc:
        reason = f"would take the balance ({exc.balance_minor}) below zero"
        raise Problem(
            422, "The adjustment is invalid; see errors.", errors=[{"field": "body.amount_minor", "reason": reason}]
        ) from None
    return BalanceTransactionOut.model_validate(transaction)
