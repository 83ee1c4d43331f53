from fastapi import APIRouter

from billing.customers.api import unknown_customer
from billing.customers.service import UnknownCustomer
from billing.db import SessionDep
from billing.entitlements import service
from billing.entitlements.schemas import EntitlementsOut

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get("/{customer_ref}/entitlements")
async def customer_entitlements(customer_ref: str, session: SessionDep) -> EntitlementsOut:
    """Each limit with what the open period used and what remains, and the features the plans turn on."""
    try:
        return await service.entitlements_of(session, customer_ref)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None
