from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from tally_runtime.outbox import outbox_table

SCHEMA = "billing"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
metadata = MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata


def import_models() -> None:
    """Register every ORM model on `metadata` (alembic autogenerate and tests need them all)."""
    from billing.catalog import models as catalog_models  # noqa: F401
    from billing.credits import models as credit_models  # noqa: F401
    from billing.customers import models as customer_models  # noqa: F401
    from billing.entitlements import models as entitlement_models  # noqa: F401
    from billing.imports import models as stripe_import_models  # noqa: F401
    from billing.invoices import models as invoice_models  # noqa: F401
    from billing.payment import models as payment_models  # noqa: F401
    from billing.plans import models as plan_models  # noqa: F401
    from billing.subscriptions import models as subscription_models  # noqa: F401
    from billing.usage import models as usage_models  # noqa: F401


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (the request commits, not services)."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
