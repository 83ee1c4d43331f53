"""The Tally plan standing for a Stripe subscription's prices, and the meters its usage charges price: made once
through billing's plan and catalog services, found through the import map after that. A Stripe price cannot change,
so one version of each plan does, and two subscriptions with the same prices share their plan."""

import hashlib
from collections.abc import Mapping
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from billing.catalog import repository as meters
from billing.catalog import service as catalog_service
from billing.catalog.schemas import MeterCreate
from billing.imports import repository
from billing.imports.context import CustomerData, Progress, Run
from billing.imports.stripe_meters import MeterTerms, describe, meter_terms
from billing.imports.stripe_objects import Raw
from billing.imports.stripe_prices import Item, Plan
from billing.plans import repository as plans
from billing.plans import service as plan_service
from billing.plans.models import PlanVersion
from billing.plans.schemas import Charge, PlanIn
from billing.rating.periods import Interval


async def plan_for(session: AsyncSession, plan: Plan, data: CustomerData, run: Run, progress: Progress) -> PlanVersion:
    """The plan `plan.key` (see stripe_prices.Plan), made the first time with its base price and usage charges."""
    key = run.plans.get(plan.ref)
    if key is None:
        key = (await repository.mapped(session, [("plan", plan.ref)])).get(("plan", plan.ref))
        if key is not None:
            progress.count("plans", "existing")
        else:
            charges = [item.charge(await _meter(session, item, data.meters, run, progress)) for item in plan.metered]
            key = await _new_plan(session, plan, plan.name(data.product_names), charges)
            await repository.map_object(session, "plan", plan.ref, key, run.import_id)
            progress.count("plans", "created")
        run.plans[plan.ref] = key
    found = await plans.version_of(session, key, 1)
    if found is None:
        raise RuntimeError(f"the plan {key!r} an earlier import made is gone")
    return found


async def _new_plan(session: AsyncSession, plan: Plan, name: str, charges: list[Charge]) -> str:
    assert plan.interval is not None
    # The hashed key when someone's own plan has the plain one (or another price's id differs only in case).
    for key in (plan.key, _hashed(plan.key, plan.ref)):
        terms = PlanIn(
            key=key,
            name=name,
            currency=plan.currency,
            interval=cast(Interval, plan.interval),
            base_price_minor=plan.base_price_minor(),
            charges=charges,
        )
        try:
            return (await plan_service.create_plan(session, terms)).key
        except plan_service.PlanExists:
            continue
    raise RuntimeError(f"the plan keys {plan.key!r} and {_hashed(plan.key, plan.ref)!r} are both taken")


async def _meter(
    session: AsyncSession, item: Item, stripe_meters: Mapping[str, Raw | None], run: Run, progress: Progress
) -> str:
    """The key of the Tally meter a metered price bills: one per Stripe meter (else per price), made once (see
    stripe_meters), or a Tally meter that measures exactly the same."""
    ref = item.meter_ref
    if key := (await repository.mapped(session, [("meter", ref)])).get(("meter", ref)):
        progress.count("meters", "existing")
        return key
    terms = meter_terms(item, stripe_meters.get(ref))
    if same := await _same_meter(session, terms):
        await repository.map_object(session, "meter", ref, same, run.import_id)
        progress.count("meters", "linked")
        return same
    for key in dict.fromkeys((terms.key, item.meter_key, _hashed(item.meter_key, ref))):
        try:
            meter = await catalog_service.create_meter(session, _create(terms, key))
        except catalog_service.MeterExists:
            continue
        await repository.map_object(session, "meter", ref, meter.key, run.import_id)
        progress.count("meters", "created")
        if terms.problem:
            progress.problem("meters", ref, terms.problem)
        elif key != terms.key:
            made = f"made `{key}` ({describe(meter)}) instead"
            progress.problem("meters", ref, f"the Tally meter `{terms.key}` measures something else: {made}")
        return meter.key
    raise RuntimeError(f"the meter keys {terms.key!r}, {item.meter_key!r} and more are all taken")


async def _same_meter(session: AsyncSession, terms: MeterTerms) -> str | None:
    """A Tally meter measuring exactly what the Stripe meter does (the company may have made it already)."""
    if terms.own_events:
        return None
    for meter in await meters.meters_of_event_type(session, terms.event_type):
        if (meter.aggregation, meter.property, meter.filters, meter.group_by) == (
            terms.aggregation,
            terms.property,
            {},
            None,
        ):
            return meter.key
    return None


def _create(terms: MeterTerms, key: str) -> MeterCreate:
    """The meter under `key`; the fallback measures the events named by the key it gets."""
    event_type = key if terms.own_events else terms.event_type
    return MeterCreate(key=key, event_type=event_type, aggregation=terms.aggregation, property=terms.property)


def _hashed(key: str, ref: str) -> str:
    return f"{key[:91]}_{hashlib.sha1(ref.encode()).hexdigest()[:8]}"
