from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, page_response

from billing.customers.api import unknown_customer
from billing.customers.service import UnknownCustomer
from billing.db import SessionDep
from billing.invoices import service
from billing.invoices.schemas import InvoiceList, InvoiceOut, RejectedUsageList, RejectedUsageOut, Status

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
late_router = APIRouter(prefix="/v1/customers", tags=["invoices"])


def _unknown(invoice_id: str) -> Problem:
    return Problem(404, f"No invoice {invoice_id!r}.")


@router.get("", response_model=InvoiceList, responses=CSV_RESPONSES)
async def list_invoices(
    request: Request,
    session: SessionDep,
    *,
    customer_id: Annotated[str | None, Query(description="Our `cus_` id or your external id")] = None,
    status: Status | None = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Newest first; `Accept: text/csv` for the page as CSV (each invoice's lines as JSON in one cell)."""
    try:
        invoices, cursor = await service.list_invoices(session, customer_id, status, after, limit)
    except UnknownCustomer:
        raise unknown_customer(customer_id or "") from None
    page = InvoiceList(data=[InvoiceOut.model_validate(i) for i in invoices], next_cursor=cursor)
    return page_response(request, page, filename="invoices")


@router.get("/{invoice_id}")
async def get_invoice(invoice_id: str, session: SessionDep) -> InvoiceOut:
    try:
        return InvoiceOut.model_validate(await service.get_invoice(session, invoice_id))
    except service.UnknownInvoice:
        raise _unknown(invoice_id) from None


async def _act(session: SessionDep, invoice_id: str, action: str) -> InvoiceOut:
    now = datetime.now(UTC)
    try:
        invoice = await service.transition(session, invoice_id, action, now)
    except service.UnknownInvoice:
        raise _unknown(invoice_id) from None
    except service.WrongStatus as exc:
        raise Problem(409, str(exc)) from None
    return InvoiceOut.model_validate(invoice)


@router.post("/{invoice_id}/finalize")
async def finalize_invoice(invoice_id: str, session: SessionDep) -> InvoiceOut:
    """Number and freeze a draft now, without waiting for the draft period."""
    return await _act(session, invoice_id, "finalize")


@router.post("/{invoice_id}/pay")
async def pay_invoice(invoice_id: str, session: SessionDep) -> InvoiceOut:
    """Record a payment received outside Stripe."""
    return await _act(session, invoice_id, "pay")


@router.post("/{invoice_id}/void")
async def void_invoice(invoice_id: str, session: SessionDep) -> InvoiceOut:
    return await _act(session, invoice_id, "void")


@router.post("/{invoice_id}/mark-uncollectible")
async def mark_invoice_uncollectible(invoice_id: str, session: SessionDep) -> InvoiceOut:
    return await _act(session, invoice_id, "mark_uncollectible")


@late_router.get("/{customer_ref}/late-usage")
async def rejected_late_usage(
    customer_ref: str, session: SessionDep, limit: Limit = DEFAULT_LIMIT
) -> RejectedUsageList:
    """Usage that arrived after its period's grace window: kept and counted in usage reports, not billed. Newest
    first."""
    try:
        rows = await service.rejected_late_usage(session, customer_ref, limit)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None
    return RejectedUsageList(data=[RejectedUsageOut.model_validate(row) for row in rows])
