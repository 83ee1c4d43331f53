"""Today's date (UTC), as a dependency: the defaults that follow the calendar read it here (tests move it)."""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends


async def today() -> date:  # async: a sync dependency would cost a trip to the thread pool
    return datetime.now(UTC).date()


Today = Annotated[date, Depends(today)]
