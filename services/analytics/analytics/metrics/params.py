"""Query parameters shared by the metric endpoints; a bad one is a 422 naming it."""

from datetime import date
from typing import Annotated

from fastapi import Query
from tally_runtime.problems import Problem

from analytics.metrics.periods import add_months, parse_month

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MAX_MONTHS = 120
DEFAULT_MONTHS = 12

Currency = Annotated[
    str | None,
    Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code; default: the currency most customers pay in"),
]
FromMonth = Annotated[str | None, Query(alias="from", pattern=MONTH_PATTERN, description="YYYY-MM, included")]
ToMonth = Annotated[str | None, Query(alias="to", pattern=MONTH_PATTERN, description="YYYY-MM, included")]


def _invalid(field: str, reason: str) -> Problem:
    return Problem(422, f"{field}: {reason}", errors=[{"field": f"query.{field}", "reason": reason}])


def month_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """Default: the twelve months ending with `today`'s."""
    end = parse_month(last) if last else date(today.year, today.month, 1)
    start = parse_month(first) if first else add_months(end, 1 - DEFAULT_MONTHS)
    if start > end:
        raise _invalid("to", "must not be before `from`")
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise _invalid("from", f"the range may span at most {MAX_MONTHS} months")
    return start, end
