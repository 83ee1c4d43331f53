from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, page_response

from billing.customers import service
from billing.customers.schemas import CustomerIn, CustomerList, CustomerOut, CustomerUpdate
from billing.db import SessionDep

router = APIRouter(prefix="/v1/customers", tags=["customers"])


def unknown_customer(ref: str) -> Problem:
    return Problem(404, f"No customer {ref!r} (by id or external_id).")


@router.post("", status_code=201)
async def create_customer(data: CustomerIn, session: SessionDep) -> CustomerOut:
    try:
        customer = await service.create_customer(session, data)
    except service.ExternalIdTaken:
        raise Problem(
            409,
            f"Another customer has external_id {data.external_id!r}.",
            errors=[{"field": "body.external_id", "reason": "already used by another customer"}],
        ) from None
    return CustomerOut.model_validate(customer)


@router.get("", response_model=CustomerList, responses=CSV_RESPONSES)
async def list_customers(
    request: Request,
    session: SessionDep,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
    search: Annotated[str | None, Query(min_length=1, max_length=200, description="Name, email or external id")] = None,
) -> Response:
    """Cursor pages; `Accept: text/csv` for the page as CSV."""
    customers, cursor = await service.list_customers(session, after, limit, search)
    page = CustomerList(data=[CustomerOut.model_validate(c) for c in customers], next_cursor=cursor)
    return page_response(request, page, filename="customers")


@router.get("/{customer_ref}")
async def get_customer(customer_ref: str, session: SessionDep) -> CustomerOut:
    """By our `cus_` id or your external id."""
    try:
        return CustomerOut.model_validate(await service.get_customer(session, customer_ref))
    except service.UnknownCustomer:
        raise unknown_customer(customer_ref) from None


@router.patch("/{customer_ref}")
async def update_customer(customer_ref: str, data: CustomerUpdate, session: SessionDep) -> CustomerOut:
    """Name, email, tax rate and metadata; the currency is fixed once chosen."""
    try:
        return CustomerOut.model_validate(await service.update_customer(session, customer_ref, data))
    except service.UnknownCustomer:
        raise unknown_customer(customer_ref) from None
