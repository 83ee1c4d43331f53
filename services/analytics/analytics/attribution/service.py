"""Attribution use case. The caller owns the transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.attribution import repository
from analytics.attribution.allocate import Conversion, attribute
from analytics.attribution.schemas import (
    AttributionQuery,
    AttributionResult,
    CurrencyAttribution,
    TouchpointCredit,
    Unattributed,
)


async def query(session: AsyncSession, request: AttributionQuery) -> AttributionResult:
    found = await repository.conversions(session, request.revenue, request.from_, request.to)
    touches = await repository.touches(session, found, request.lookback, request.touchpoints)
    conversions = [
        Conversion(c.customer_id, c.at, c.amount_minor, c.currency, touches.get(index, []))
        for index, c in enumerate(found)
    ]
    ledgers = attribute(conversions, request.model, request.half_life)
    currencies = []
    for currency, ledger in sorted(ledgers.items()):
        credits = sorted(ledger.by_type.items(), key=lambda item: (-item[1].revenue_minor, item[0]))
        currencies.append(
            CurrencyAttribution(
                currency=currency,
                total_minor=ledger.total_minor,
                conversions=ledger.conversions,
                touchpoints=[
                    TouchpointCredit(
                        event_type=event_type,
                        revenue_minor=credit.revenue_minor,
                        conversions=round(float(credit.conversions), 4),
                        touches=credit.touches,
                    )
                    for event_type, credit in credits
                ],
                unattributed=Unattributed(
                    revenue_minor=ledger.unattributed.revenue_minor,
                    conversions=int(ledger.unattributed.conversions),
                ),
            )
        )
    return AttributionResult(
        model=request.model,
        from_=request.from_,
        to=request.to,
        lookback_seconds=request.lookback.total_seconds(),
        half_life_seconds=request.half_life.total_seconds() if request.model == "time_decay" else None,
        revenue=request.revenue,
        currencies=currencies,
    )
