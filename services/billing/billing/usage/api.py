from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from tally_runtime.problems import Problem

from billing.customers.repository import customer_by_ref
from billing.db import SessionDep
from billing.usage import service
from billing.usage.schemas import UsageReport
from billing.usage.window import as_utc

router = APIRouter(prefix="/v1/customers", tags=["usage"])


@router.get("/{customer_id}/usage")
async def customer_usage(
    customer_id: str,
    session: SessionDep,
    meter: Annotated[str, Query(description="Meter key")],
    from_: Annotated[datetime | None, Query(alias="from", description="Inclusive; default: this month")] = None,
    to: Annotated[datetime | None, Query(description="Exclusive; default: end of today")] = None,
) -> UsageReport:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = as_utc(from_) if from_ else today.replace(day=1)
    end = as_utc(to) if to else today + timedelta(days=1)
    if end <= start:
        raise Problem(422, "`to` must be after `from`.", errors=[{"field": "query.to", "reason": "not after from"}])
    customer = await customer_by_ref(session, customer_id)  # our `cus_` id works too, once the customer exists
    usage_key = customer.usage_key if customer else customer_id
    try:
        return await service.usage_report(session, usage_key, meter, start, end)
    except service.UnknownMeter:
        raise Problem(404, f"No meter with key {meter!r}.") from None
    except ValueError as exc:
        raise Problem(422, str(exc), errors=[{"field": "query.from", "reason": str(exc)}]) from None
